"""aiorch.csv: data cleaning of CSV files with pandas."""
