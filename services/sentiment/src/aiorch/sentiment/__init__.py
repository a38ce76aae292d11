"""aiorch.sentiment: sentiment and emotion analysis of texts."""
