"""The data standard: POLE tables, shipped code lists and the name knowledge stages share."""
