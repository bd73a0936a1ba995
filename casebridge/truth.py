"""Reading a synthetic truth folder (``casebridge synth``'s ``truth/``).

Only the ``evaluate`` modules use this: the pipeline never reads a truth folder.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from casebridge.errors import UsageError


def read_truth(truth: Path, *names: str) -> list[pl.DataFrame]:
    """The named tables (``name.parquet``) of a truth folder, in the order asked for."""
    try:
        return [pl.read_parquet(truth / f"{name}.parquet") for name in names]
    except OSError as exc:
        files = ", ".join(f"{name}.parquet" for name in names)
        raise UsageError(f"{truth} is not a truth folder ({files}): {exc}") from exc


def record_ids(records: pl.DataFrame) -> pl.DataFrame:
    """``record_person`` as (record_id, true_person_id), record ids as the pipeline writes them
    (``source:local_id``)."""
    return records.select(
        record_id=pl.format("{}:{}", "source", "local_id"), true_person_id="person_id"
    )
