"""The CSV cleaning agent's spec, published to the agent registry when the service starts."""

from aiorch.contracts import AgentSpec

SPEC = AgentSpec(
    name="csv",
    version="1.0.0",
    title="CSV cleaning",
    description="Cleans CSV files with pandas: profile, missing values, duplicates, formats, typos, "
    "validation; returns the cleaned file, a change log and a report.",
    accepts=["text/csv", "text/tab-separated-values"],
    kinds={"text/csv": "table", "text/tab-separated-values": "table"},
    material=["table"],
    missing="attach the CSV file (or give the address of a page with the table) and send the request again.",
    consumes=["files"],
    produces=["files"],
    keywords={
        "en": ["clean", "dedup", "duplicat", "missing", "imput", "fill", "standardi", "normali", "validat", "csv",
               "spreadsheet", "typo", "profile", "tidy", "fix", "null", "format", "drop", "dedupe", "dataset", "data",
               "impute", "convert", "trim", "whitespace", "consistent", "quality", "empty", "record"],
        "de": ["bereinig", "duplikat", "fehlend", "wert", "tabelle", "datei"],
        "fr": ["nettoi", "doublon", "manquant", "fichier"],
        "es": ["limpi", "límpi", "duplicado", "archivo", "faltante"],
    },
    typo_words=["duplicates", "missing", "clean", "file", "values", "deduplicate", "spreadsheet"],
    examples={
        "en": [
            "clean this csv file",
            "remove duplicate rows",
            "fill missing values with the median",
            "standardise the country names",
            "fix the date formats in the spreadsheet",
            "validate the emails in the table",
            "profile this dataset",
            "drop rows where the price is empty",
            "deduplicate the records",
            "tidy up this data export",
            "prepare the data for analysis",
            "check the data quality",
            "trim whitespace and fix typos in a column",
        ],
        "de": ["Bereinige diese Datei", "entferne Duplikate", "fehlende Werte auffüllen"],
        "fr": ["nettoie ce fichier", "supprime les doublons"],
        "es": ["limpia este archivo", "elimina los duplicados"],
    },
)
