"""Screen: queue closed cases and people for review with declarative, explainable rules."""
