"""Stored times: every one is UTC, whatever the database hands back."""

from __future__ import annotations

import datetime as dt


def as_utc(at: dt.datetime) -> dt.datetime:
    """``at`` with its UTC zone: SQLite gives back naive datetimes, PostgreSQL aware ones."""
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
