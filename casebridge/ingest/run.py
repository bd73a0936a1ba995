"""Ingest sources into a workspace: one transaction per source, nothing lost, nothing doubled.

For every file, rows read = rows loaded + rows quarantined; the check runs on every load. An
identical extract (same content hash) changes nothing; a new one replaces the old and the
replacement is recorded in ``source_history``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge import __version__
from casebridge.engine import Engine
from casebridge.errors import CasebridgeError, IngestError, MappingError
from casebridge.ingest.duty_reports import DUTY_KEY, service_duty_sources
from casebridge.ingest.fidelity import (
    record_character_findings,
    record_implausible_dates,
    set_aside_only,
)
from casebridge.ingest.identifiers import identifier_sql
from casebridge.ingest.mapping import Mapping, load_mapping
from casebridge.ingest.observations import (
    conflict_findings_sql,
    event_observation_sql,
    person_observation_sql,
)
from casebridge.ingest.readers import RawFile, read_file
from casebridge.ingest.stage import (
    check_json_paths,
    event_rows_sql,
    person_rows_sql,
    problem_rows_sql,
)
from casebridge.ingest.standardise import (
    event_findings_sql,
    event_sql,
    event_std_sql,
    involvement_sql,
    person_findings_sql,
    person_record_sql,
    person_std_sql,
)
from casebridge.standard.sql import text
from casebridge.standard.tables import PER_SOURCE, record_run
from casebridge.standard.transliterate import romanise_names
from casebridge.workspace import SourceSettings, Workspace

logger = logging.getLogger(__name__)
REJECT_REASONS = {
    "MISSING COLUMNS": "too few fields",
    "TOO MANY COLUMNS": "too many fields",
    "UNQUOTED VALUE": "broken quoting",
    "INVALID UNICODE": "invalid characters",
    "LINE SIZE OVER MAXIMUM": "line too long",
    "CAST": "value of the wrong type",
}


@dataclass(frozen=True)
class SourceReport:
    """What ingesting one source did."""

    source: str
    status: str  # loaded, replaced, unchanged or failed
    files: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    values_set_aside: int
    seconds: float
    reason: str = ""  # why a failed source failed, in one line
    values_noted: int = 0  # findings on values kept as they are (conflicts, odd characters)
    notes: tuple[str, ...] = ()  # what the user should know, such as a file with no rows


def content_hash(files: list[Path], mapping: Path, codes: list[Path] | None = None) -> str:
    """SHA-256 over the files' names and contents, the mapping file, the workspace's code files
    and casebridge's version: a changed extract, a corrected mapping, a new code or a new
    release each reloads the source."""
    digest = hashlib.sha256(__version__.encode())
    digest.update(mapping.read_bytes())
    for code_file in codes or []:
        digest.update(code_file.name.encode() + b"\0" + code_file.read_bytes())
    for path in files:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _quarantine(engine: Engine, source: str, path: Path, raw: RawFile) -> None:
    """Record every row that cannot load, verbatim where the text is kept, with its reasons."""
    if raw.lines_table:
        verbatim, joined = "l.line", f'JOIN "{raw.lines_table}" l ON l.row_number = q.row_number'
    else:  # spreadsheets and Parquet: the row's cells as a JSON object
        verbatim, joined = "to_json(r)", f'JOIN "{raw.table}" r ON r.row_number = q.row_number'
    engine.execute(
        f"""INSERT INTO quarantine
        SELECT {text(source)}, {text(path.name)}, q.row_number, {verbatim}, q.reasons
        FROM (SELECT row_number, list(DISTINCT reason) AS reasons
              FROM cb_problem GROUP BY row_number) q
        {joined}"""
    )
    if raw.rejects:
        rejects = pl.DataFrame(
            {
                "row_number": [row for row, _, _ in raw.rejects],
                "raw_row": [line for _, line, _ in raw.rejects],
                "reasons": [
                    sorted({REJECT_REASONS.get(e, e.lower()) for e in errors.split("; ")})
                    for _, _, errors in raw.rejects
                ],
            }
        )
        engine.create_table_from_arrow("cb_rejected", rejects, temporary=True)
        engine.execute(
            f"INSERT INTO quarantine SELECT {text(source)}, {text(path.name)}, row_number, "
            "raw_row, reasons FROM cb_rejected"
        )


def _stage_file(
    engine: Engine, source: str, mapping: Mapping, mapping_path: Path, path: Path, index: int
) -> tuple[int, int, int, str | None]:
    """Land, check and standardise one file; return (rows read, loaded, quarantined, note)."""
    try:
        raw = read_file(engine, path, mapping, f"cb_raw_{index}")
        if raw.is_json:
            check_json_paths(engine, raw, mapping, path)
        engine.execute(person_rows_sql(raw, mapping, "cb_person_rows"))
        romanise_names(engine, "cb_person_rows")
        if mapping.event is not None:
            engine.execute(event_rows_sql(raw, mapping.event, "cb_event_rows"))
    except IngestError as exc:
        raise IngestError(f"source {source!r} (mapping {mapping_path}): {exc}") from exc
    events = "cb_event_rows" if mapping.event is not None else ""
    engine.execute(problem_rows_sql(raw, mapping, "cb_person_rows", events, "cb_problem"))
    _quarantine(engine, source, path, raw)
    record_character_findings(engine, mapping, source, path.name, raw)
    good = "WHERE row_number NOT IN (SELECT row_number FROM cb_problem)"
    people = f"(SELECT * FROM cb_person_rows {good})"
    engine.execute(person_std_sql(mapping, people, f"cb_people_{index}", path.name, index))
    if mapping.event is not None:
        events = f"(SELECT * FROM cb_event_rows {good})"
        engine.execute(event_std_sql(mapping, events, f"cb_events_{index}", path.name, index))
    problems = engine.scalar("SELECT count(DISTINCT row_number) FROM cb_problem")
    loaded = engine.scalar(f'SELECT count(*) FROM "{raw.table}" {good}')
    return raw.rows_read, int(loaded), int(problems) + len(raw.rejects), raw.note


def _union(engine: Engine, table: str, count: int) -> str:
    """The name of one table holding every file's rows (the first file's, if only one)."""
    if count == 1:
        return f"{table}_0"
    # every file went through the same mapping, so the tables' columns are the same
    parts = " UNION ALL ".join(f"SELECT * FROM {table}_{i}" for i in range(count))
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {parts}")
    return table


def _load(
    engine: Engine, source: SourceSettings, mapping: Mapping, mapping_path: Path, files: list[Path]
) -> tuple[int, int, int, tuple[str, ...]]:
    key = source.key
    for table in PER_SOURCE:
        engine.execute(f"DELETE FROM {table} WHERE source = ?", [key])
    totals, notes = [0, 0, 0], []
    for index, path in enumerate(files):
        read, loaded, quarantined, note = _stage_file(
            engine, key, mapping, mapping_path, path, index
        )
        notes += [note] if note else []
        if read != loaded + quarantined:
            raise CasebridgeError(
                f"{path}: {read} rows read but {loaded} loaded and {quarantined} quarantined; "
                "this is a bug in casebridge, please report it"
            )
        totals = [totals[0] + read, totals[1] + loaded, totals[2] + quarantined]
    people = _union(engine, "cb_people", len(files))
    engine.execute(person_findings_sql(mapping, key, people))
    engine.execute(person_record_sql(key, people))
    engine.execute(person_observation_sql(key, people))
    for statement in identifier_sql(mapping, key, people):
        engine.execute(statement)
    if mapping.event is not None:
        events = _union(engine, "cb_events", len(files))
        engine.execute(event_findings_sql(mapping, key, events))
        engine.execute(event_sql(key, events))
        engine.execute(event_observation_sql(key, events))
        record_implausible_dates(engine, mapping, key, people, events)
    engine.execute(involvement_sql(key, people))
    engine.execute(conflict_findings_sql(mapping, key))
    return totals[0], totals[1], totals[2], tuple(notes)


def _record_source(
    engine: Engine, source: SourceSettings, files: list[Path], digest: str, counts: tuple[int, ...]
) -> int:
    previous = engine.query(
        "SELECT content_hash, version FROM source WHERE source = ?", [source.key]
    )
    version = previous[0][1] + 1 if previous else 1
    replaced = previous[0][0] if previous else None
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    names = ", ".join(path.name for path in files)
    engine.execute("DELETE FROM source WHERE source = ?", [source.key])
    engine.execute(
        "INSERT INTO source VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            source.key,
            source.agency,
            source.kind,
            names,
            digest,
            source.extracted_at,
            now,
            *counts,
            version,
        ],
    )
    engine.execute(
        "INSERT INTO source_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source.key, names, digest, now, version, replaced, *counts],
    )
    return version


def ingest_source(engine: Engine, workspace: Workspace, source: SourceSettings) -> SourceReport:
    """Load one source in one transaction, or leave the workspace exactly as it was."""
    started = time.perf_counter()
    path = workspace.mapping_path(source)
    mapping = load_mapping(path)
    if mapping.source != source.key:
        raise MappingError(
            f"{path}: 'source' is {mapping.source!r} but casebridge.toml calls it {source.key!r}"
        )
    files = workspace.files_of(source)
    digest = content_hash(files, path, workspace.code_files())
    current = engine.query(
        "SELECT content_hash, rows_read, rows_loaded, rows_quarantined, values_set_aside "
        "FROM source WHERE source = ?",
        [source.key],
    )
    notes: tuple[str, ...] = ()
    if current and current[0][0] == digest:
        read, loaded, quarantined, set_aside = current[0][1:]
        status = "unchanged"
    else:
        with engine.transaction():
            read, loaded, quarantined, notes = _load(engine, source, mapping, path, files)
            set_aside = _count_findings(engine, source.key, kept=False)
            _record_source(engine, source, files, digest, (read, loaded, quarantined, set_aside))
        status = "replaced" if current else "loaded"
        logger.info("ingested %s: %s rows read, %s quarantined", source.key, read, quarantined)
    seconds = time.perf_counter() - started
    noted = _count_findings(engine, source.key, kept=True)
    return SourceReport(
        source.key, status, len(files), read, loaded, quarantined, set_aside, seconds,
        values_noted=noted, notes=notes,
    )  # fmt: skip


def _count_findings(engine: Engine, source: str, kept: bool) -> int:
    """How many findings of a source note a value kept as it is (``kept``) or set one aside."""
    condition = f"NOT ({set_aside_only()})" if kept else set_aside_only()
    return int(
        engine.scalar(f"SELECT count(*) FROM finding WHERE source = ? AND {condition}", [source])
    )


def chosen_sources(workspace: Workspace, keys: list[str] | None) -> list[SourceSettings]:
    """The sources named (all by default). Every source includes the review service's duty
    reports (``duty_reports.py``); the key ``duty_reports`` names all of them."""
    if not keys:
        return [*workspace.settings.sources, *service_duty_sources(workspace)]
    chosen = []
    for key in keys:
        chosen += service_duty_sources(workspace) if key == DUTY_KEY else [workspace.source(key)]
    return chosen


def ingest(
    workspace: Workspace,
    keys: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    keep_going: bool = False,
) -> list[SourceReport]:
    """Ingest the named sources (all by default, the review service's duty reports among them)
    and record the run.

    A source that fails (its mapping, its files) is left as it was. By default its error is
    raised; with ``keep_going`` (as ``casebridge ingest`` does) it is reported with status
    ``failed`` and the reason, and the sources after it are still loaded."""
    chosen = chosen_sources(workspace, keys)
    engine = workspace.connect(refresh_code_lists=True)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    reports = []
    try:
        for source in chosen:
            clock = time.perf_counter()
            try:
                reports.append(ingest_source(engine, workspace, source))
            except CasebridgeError as exc:
                if not keep_going:
                    raise
                logger.warning("source %s failed; it keeps its previous load", source.key)
                seconds = time.perf_counter() - clock
                reports.append(SourceReport(source.key, "failed", 0, 0, 0, 0, 0, seconds, str(exc)))
            if progress:
                progress(source.key)
        _record_run(engine, started, reports)
    finally:
        engine.close()
    return reports


def _record_run(engine: Engine, started: dt.datetime, reports: list[SourceReport]) -> None:
    record_run(
        engine, "ingest", started,
        json.dumps({"sources": [r.source for r in reports]}),
        json.dumps({r.source: r.status for r in reports}),
        sum(r.rows_read for r in reports), sum(r.rows_loaded for r in reports),
    )  # fmt: skip
