"""aiorch medical agent: skin-lesion photo classification in PyTorch (not a diagnosis)."""
