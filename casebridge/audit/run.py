"""The audit stage: data quality, the linkage result, networks and the review queue, and the
demographic statistics, written to the workspace (exact, ``audit_<table>``, and as published,
``audit_<table>_published``) and exported as CSV and Parquet (published only) under ``out``.

``docs/audit.md`` describes every table and column.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge.audit import baseline, tables
from casebridge.audit.prepare import Stages, prepare
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.errors import OutputError
from casebridge.standard.tables import now, record_run

logger = logging.getLogger(__name__)
MANIFEST = "audit.json"


@dataclass(frozen=True)
class AuditSummary:
    """What an audit run wrote, and its headline figures (as published)."""

    out: Path
    tables: dict[str, int]
    stages: Stages
    suppressed_cells: int
    suspect_ethnicity_recorded: float | None
    suspect_nationality_recorded: float | None
    seconds: float


def build_tables(
    engine: Engine, settings: AuditSettings
) -> tuple[Stages, dict[str, tuple[pl.DataFrame, pl.DataFrame]]]:
    """Every audit table as (exact, published), and which earlier stages had run."""
    stages, pairs, _ = _build(engine, settings)
    return stages, pairs


def _build(
    engine: Engine, settings: AuditSettings
) -> tuple[Stages, dict[str, tuple[pl.DataFrame, pl.DataFrame]], int]:
    stages = prepare(engine, settings.duty_report_kinds)
    pairs, suppressed = tables.build(engine, settings, stages)
    if settings.population_baseline is not None:
        shares = baseline.read_baseline(settings.population_baseline)
        exact, published = pairs["demographics"]
        pairs["baseline_comparison"] = (
            baseline.compare(exact, shares),
            baseline.compare(published, shares),
        )
    return stages, pairs, suppressed


def audit(engine: Engine, settings: AuditSettings, out: Path) -> AuditSummary:
    """Build every audit table, keep them in the workspace and export the published ones.

    Example:
        >>> summary = audit(engine, AuditSettings(), Path("audit"))  # doctest: +SKIP
        >>> summary.suspect_ethnicity_recorded  # doctest: +SKIP
        0.377
    """
    started = time.perf_counter()
    stages, pairs, suppressed = _build(engine, settings)
    with engine.transaction():
        for name in _stale(engine, pairs):
            engine.execute(f'DROP TABLE IF EXISTS "{name}"')
        for name, (exact, published) in pairs.items():
            engine.create_table_from_arrow(f"audit_{name}", exact)
            engine.create_table_from_arrow(f"audit_{name}_published", published)
    _export({name: published for name, (_, published) in pairs.items()}, settings, out)
    seconds = time.perf_counter() - started
    summary = AuditSummary(
        out=out,
        tables={name: published.height for name, (_, published) in pairs.items()},
        stages=stages,
        suppressed_cells=suppressed,
        suspect_ethnicity_recorded=headline(pairs["person_completeness"][1], "ethnicity_recorded"),
        suspect_nationality_recorded=headline(
            pairs["person_completeness"][1], "nationality_recorded"
        ),
        seconds=seconds,
    )
    _record_run(engine, settings, summary)
    logger.info("audit: %d tables, %.1f s", len(pairs), seconds)
    return summary


def headline(person_completeness: pl.DataFrame, measure: str) -> float | None:
    """The published share of all suspects with ``measure`` recorded."""
    row = person_completeness.filter(
        (pl.col("population") == "all records") & (pl.col("role") == "suspect")
    )
    if row.is_empty() or row[measure][0] is None or not row["persons"][0]:
        return None
    return float(row[measure][0]) / float(row["persons"][0])


def _stale(engine: Engine, pairs: dict[str, tuple[pl.DataFrame, pl.DataFrame]]) -> list[str]:
    current = {f"audit_{n}" for n in pairs} | {f"audit_{n}_published" for n in pairs}
    return [n for n in engine.table_names() if n.startswith("audit") and n not in current]


def _export(published: dict[str, pl.DataFrame], settings: AuditSettings, out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in published.items():
            frame.write_csv(out / f"{name}.csv")
            frame.write_parquet(out / f"{name}.parquet")
        manifest = {
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "settings": json.loads(settings.model_dump_json()),
            "tables": {name: frame.height for name, frame in published.items()},
            "disclosure_control": "cells of 1 to threshold-1 suppressed (empty), the rest "
            "rounded to the base; true zeros kept; more cells suppressed wherever all these "
            "tables together would reveal a suppressed one; no share of known for a suppressed "
            "count (docs/audit.md)",
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write the audit tables to {out}: {exc.strerror}") from exc


def _record_run(engine: Engine, settings: AuditSettings, summary: AuditSummary) -> None:
    started = now() - dt.timedelta(seconds=summary.seconds)
    record_run(
        engine, "audit", started, settings.model_dump_json(),
        json.dumps({"out": str(summary.out)}), sum(summary.tables.values()), len(summary.tables),
    )  # fmt: skip
