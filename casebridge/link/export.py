"""The linkage as a file: one row per person record with its source, local id, person id and
link probability (``person_link``), as CSV or Parquet, for users who score or use the linkage
elsewhere.

A person-level export, handled as the network exports are (:mod:`casebridge.networks.export`):
logged (counts only), recorded in ``run``, readable by its owner only, and marked as personal
data: a ``# `` comment line first in CSV, and the same words in the Parquet file's key-value
metadata (key ``casebridge_marking``), which Parquet has no comment line for.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import OutputError, UsageError

logger = logging.getLogger(__name__)
MARKING = (
    "PERSONAL DATA: person-level export from casebridge (source, local record id, pseudonymous "
    "person id and link probability; no names or dates of birth). Handle under your "
    "organisation's data-protection rules."
)
MARKING_KEY = "casebridge_marking"
FORMATS = ("csv", "parquet")
OWNER_ONLY_FILE = 0o600


def _links(engine: Engine) -> pl.DataFrame:
    """source, local_id, person_id, probability per record, in source and local id order."""
    return engine.frame(
        """SELECT r.source, r.local_id, l.person_id, l.probability
        FROM person_link l JOIN person_record r ON r.record_id = l.record_id
        ORDER BY r.source, r.local_id"""
    )


def _write(frame: pl.DataFrame, path: Path, form: str) -> None:
    if form == "parquet":
        frame.write_parquet(path, metadata={MARKING_KEY: MARKING})
        return
    with path.open("w", encoding="utf-8", newline="") as target:
        target.write(f"# {MARKING}\n")
        frame.write_csv(target)


def export_links(engine: Engine, path: Path, form: str = "csv") -> Path:
    """Write every record's person and link probability to ``path`` as ``form`` (csv or
    parquet); returns the path. The file appears whole or not at all.

    Example::

        export_links(engine, Path("person_link.csv"))
        # person_link.csv: '# PERSONAL DATA: ...' then source,local_id,person_id,probability
    """
    if form not in FORMATS:
        raise UsageError(f"unknown export format {form}; choose from {', '.join(FORMATS)}")
    if not engine.table_exists("person_link"):
        raise UsageError("no persons yet: run 'casebridge link' first")
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give --to a file name")
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    links = _links(engine)
    partial = path.with_name(f".{path.name}.partial")
    try:
        # created readable by its owner only before a byte is written, whatever the umask
        os.close(os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, OWNER_ONLY_FILE))
        partial.chmod(OWNER_ONLY_FILE)
        _write(links, partial, form)
        os.replace(partial, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}; choose a writable --to") from exc
    finally:
        partial.unlink(missing_ok=True)
    logger.info("person-level link export: %d records as %s into %s", links.height, form, path)
    _record_run(engine, started, path, form, links.height)
    return path


def _record_run(engine: Engine, started: dt.datetime, path: Path, form: str, rows: int) -> None:
    """The export's row in ``run``: records read, one file written."""
    if not engine.table_exists("run"):
        return
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine.execute(
        "INSERT INTO run VALUES ('link_export', ?, ?, ?, ?, ?, ?, ?)",
        [
            started,
            finished,
            json.dumps({"file": str(path), "format": form}),
            json.dumps({"tables": ["person_link", "person_record"]}),
            rows,
            1,
            (finished - started).total_seconds(),
        ],
    )
