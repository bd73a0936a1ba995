"""The corpus under tests/ingest/corpus/, re-read without casebridge.

Each extract is read here with Python's own csv and json modules (the workbook from the cells
it is written from), and each mapping is read as plain YAML, so that what the workspace holds
can be checked against a reading that shares no code with the pipeline. Only ``column``,
``join`` and ``constant`` values are interpreted: the corpus's mappings use nothing else to
say where a value comes from.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
import yaml

CORPUS = Path(__file__).parent / "corpus"
PERSON_FIELDS = (
    "role", "full_name", "forenames", "surname", "aliases", "date_of_birth", "approx_age", "sex",
    "ethnicity_self", "ethnicity_officer", "nationality", "postcode", "address", "phone", "email",
)  # fmt: skip
EVENT_FIELDS = (
    "kind", "date", "offence", "section", "penetrative", "outcome", "outcome_date", "cse_flag",
    "detail",
)  # fmt: skip
NAME_FIELDS = ("full_name", "forenames", "surname")
WORKBOOK_CELLS = "school_absence.cells.json"
FILE_ENCODINGS = {"police_crime.csv": "utf-8", "social_care.csv": "cp1252"}

Row = dict[str, Any]


@dataclass(frozen=True)
class CorpusSource:
    """One source of the corpus: its key, its file, its mapping as plain YAML."""

    key: str
    file_name: str
    mapping: dict[str, Any]


@dataclass(frozen=True)
class Planted:
    """A row planted to be quarantined, and a word its reason must hold."""

    source: str
    file_name: str
    row_number: int
    reason: str


@dataclass
class Observation:
    """What one person (or one event) of one loaded row must read back as: raw values."""

    row_number: int
    block: int
    local_id: str | None
    event_local_id: str | None
    raw: dict[str, str | None] = field(default_factory=dict)


def corpus_sources() -> list[CorpusSource]:
    """The corpus's sources, in the order of sources.toml."""
    settings = tomllib.loads((CORPUS / "sources.toml").read_text(encoding="utf-8"))
    sources = []
    for entry in settings["sources"]:
        mapping_text = (CORPUS / entry["mapping"]).read_text(encoding="utf-8")
        mapping = yaml.load(mapping_text, Loader=yaml.BaseLoader)  # noqa: S506 - all text
        sources.append(CorpusSource(entry["key"], Path(entry["path"]).name, mapping))
    return sources


def planted_quarantine() -> list[Planted]:
    """The rows the corpus plants to be quarantined (quarantined.csv)."""
    with (CORPUS / "quarantined.csv").open(encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if not line.startswith("# "))
        return [
            Planted(row["source"], row["file_name"], int(row["row_number"]), row["reason"])
            for row in csv.DictReader(lines)
        ]


def write_workbook(cells_path: Path, target: Path) -> None:
    """Write the workbook whose cells ``cells_path`` lists, typed cells typed."""
    cells = json.loads(cells_path.read_text(encoding="utf-8"))
    workbook = xlsxwriter.Workbook(str(target))
    sheet = workbook.add_worksheet(cells["sheet"])
    formats = {
        "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
        "datetime": workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
    }
    for r, row in enumerate(cells["rows"]):
        for c, cell in enumerate(row):
            if isinstance(cell, dict):
                [(kind, iso)] = cell.items()
                sheet.write_datetime(r, c, dt.datetime.fromisoformat(iso), formats[kind])
            elif isinstance(cell, int):
                sheet.write_number(r, c, cell)
            elif cell:
                sheet.write_string(r, c, cell)
    workbook.close()


def build_workspace_files(root: Path) -> None:
    """Copy the corpus's extracts and mappings into a new workspace at ``root``, writing the
    workbook, and name its sources in the workspace's casebridge.toml."""
    (root / "extracts").mkdir()
    for path in (CORPUS / "extracts").iterdir():
        if path.name == WORKBOOK_CELLS:
            write_workbook(path, root / "extracts" / "school_absence.xlsx")
        else:
            shutil.copyfile(path, root / "extracts" / path.name)
    for path in (CORPUS / "mappings").iterdir():
        shutil.copyfile(path, root / "mappings" / path.name)
    with (root / "casebridge.toml").open("a", encoding="utf-8") as settings:
        settings.write("\n" + (CORPUS / "sources.toml").read_text(encoding="utf-8"))


# --- reading the files ------------------------------------------------------------------------


def _delimited_rows(source: CorpusSource) -> list[Row | None]:
    """Data rows of a CSV file as column -> cell; None for a row of the wrong width."""
    reader = source.mapping.get("reader", {})
    path = CORPUS / "extracts" / source.file_name
    # the corpus knows how it wrote each file: no detection here
    with path.open(encoding=FILE_ENCODINGS[source.file_name], newline="") as handle:
        rows = [row for row in csv.reader(handle, delimiter=reader.get("delimiter", ",")) if row]
    header_row = int(reader.get("header_row", "1"))
    header, data = rows[header_row - 1], rows[header_row:]
    return [
        dict(zip(header, row, strict=True)) if len(row) == len(header) else None for row in data
    ]


def _jsonl_rows(source: CorpusSource) -> list[Row | None]:
    """Non-blank lines of a JSON Lines file, parsed; None for a line that is not JSON."""
    rows: list[Row | None] = []
    text = (CORPUS / "extracts" / source.file_name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            rows.append(None)
    return rows


def workbook_text(cell: Any) -> str | None:
    """A workbook cell as docs/mapping.md says the reader gives it: dates and date-times as
    YYYY-MM-DD, whole numbers without a decimal point."""
    if cell is None:
        return None
    if isinstance(cell, dict):
        [(_, iso)] = cell.items()
        return str(iso)[:10]
    return str(cell)


def workbook_rows(source: CorpusSource | None = None) -> list[Row | None]:
    """Data rows of the workbook as column -> cell (typed cells as the cells file writes them)."""
    del source  # the corpus has one workbook, and its cells file says where its header is
    cells = json.loads((CORPUS / "extracts" / WORKBOOK_CELLS).read_text(encoding="utf-8"))
    header_row = int(cells["header_row"])
    header = cells["rows"][header_row - 1]
    return [dict(zip(header, row, strict=True)) for row in cells["rows"][header_row:]]


def data_rows(source: CorpusSource) -> list[Row | None]:
    """Every data row of the source's file, numbered from 1 by position (index + 1)."""
    readers = {"csv": _delimited_rows, "jsonl": _jsonl_rows, "xlsx": workbook_rows}
    return readers[source.mapping["format"]](source)


# --- what the mapping takes from a row -------------------------------------------------------


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _cell(row: Row, item: Row | None, name: str, kind: str) -> str | None:
    """The text of one column: a JSON path (relative to the list item unless it starts with
    '/'), a workbook cell, or a CSV cell; trimmed, None when blank."""
    if kind == "jsonl":
        value: Any = item if item is not None and not name.startswith("/") else row
        for part in name.lstrip("/").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        text = _json_text(value)
    elif kind == "xlsx":
        text = workbook_text(row.get(name))
    else:
        text = row[name]
    text = text.strip() if text is not None else None
    return text or None


def raw_value(spec: Any, row: Row, item: Row | None, kind: str) -> str | None:
    """A field's raw value on one row: the cell, the joined cells, or the constant."""
    if isinstance(spec, str):
        spec = {"column": spec}
    if "constant" in spec:
        return str(spec["constant"])
    if "join" in spec:
        parts = [_cell(row, item, name, kind) for name in spec["join"]]
        if any(part is None for part in parts):
            return None
        return str(spec.get("separator", "")).join(str(part) for part in parts)
    return _cell(row, item, spec["column"], kind)


def _items(block: dict[str, Any], row: Row) -> Iterator[Row | None]:
    if "each" not in block:
        yield None
        return
    yield from row.get(block["each"]) or []


def person_observations(source: CorpusSource, quarantined: set[int]) -> list[Observation]:
    """Every person every loaded row of the source holds, with the raw value of each field."""
    kind = source.mapping["format"]
    event = source.mapping.get("event")
    observations = []
    for number, row in enumerate(data_rows(source), start=1):
        if number in quarantined:
            continue
        assert row is not None, f"{source.file_name} row {number}: unreadable but not planted"
        event_id = raw_value(event["local_id"], row, None, kind) if event else None
        for block_number, block in enumerate(source.mapping["persons"], start=1):
            for item in _items(block, row):
                raw = {
                    name: raw_value(block[name], row, item, kind) if name in block else None
                    for name in PERSON_FIELDS
                }
                local_id = raw_value(block["local_id"], row, item, kind)
                if local_id is None and all(raw[name] is None for name in NAME_FIELDS):
                    continue  # the block is absent on this row
                observations.append(Observation(number, block_number, local_id, event_id, raw))
    return observations


def event_observations(source: CorpusSource, quarantined: set[int]) -> list[Observation]:
    """The event of every loaded row of the source, with the raw value of each field."""
    kind = source.mapping["format"]
    event = source.mapping.get("event")
    if event is None:
        return []
    observations = []
    for number, row in enumerate(data_rows(source), start=1):
        if number in quarantined:
            continue
        assert row is not None, f"{source.file_name} row {number}: unreadable but not planted"
        raw = {
            name: raw_value(event[name], row, None, kind) if name in event else None
            for name in EVENT_FIELDS
        }
        local_id = raw_value(event["local_id"], row, None, kind)
        observations.append(Observation(number, 0, local_id, local_id, raw))
    return observations
