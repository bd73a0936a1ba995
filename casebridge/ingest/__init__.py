"""Ingest: read agencies' extracts, map them onto the standard, quarantine what cannot load."""
