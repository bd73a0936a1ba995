"""Readers: land one file as a raw table of text, every row numbered, rejects kept.

CSV and TSV go through DuckDB's strict CSV reader, which rejects rows broken as rows and says
where; files not in UTF-8 are transcoded first. JSON Lines land one line a row, parsed later in
SQL. xlsx comes through fastexcel, Parquet through DuckDB; both cannot hold a broken row.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import pyarrow as pa

from casebridge.engine import Engine
from casebridge.errors import IngestError
from casebridge.ingest.mapping import Mapping

BOM = b"\xef\xbb\xbf"


@dataclass
class RawFile:
    """A file landed as ``table``: counts and the rows rejected while reading."""

    table: str
    rows_read: int
    columns: list[str]
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    is_json: bool = False


def decode(path: Path, encoding: str) -> tuple[str, str]:
    """Return (text, encoding used): declared, or detected as UTF-8, then cp1252, then latin-1."""
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"{path}: the file is empty")
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise IngestError(
                f"{path}: not readable as {encoding} (byte {exc.object[exc.start]:#04x} at "
                f"offset {exc.start}); declare the right encoding or 'auto' in the mapping"
            ) from exc
    if data.startswith(BOM):
        return data[len(BOM) :].decode("utf-8", errors="strict"), "utf-8-sig"
    for candidate in ("utf-8", "cp1252"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _delimiter(mapping: Mapping) -> str:
    if mapping.reader.delimiter:
        return mapping.reader.delimiter
    return "\t" if mapping.format == "tsv" else ","


def _header(text: str, delimiter: str, header_row: int, path: Path) -> list[str]:
    lines = text.splitlines()
    if len(lines) < header_row:
        raise IngestError(
            f"{path}: no header on line {header_row}; the file has {len(lines)} lines"
        )
    columns = next(csv.reader(io.StringIO(lines[header_row - 1]), delimiter=delimiter))
    columns = [column.strip() for column in columns]
    if len(set(columns)) != len(columns) or "" in columns:
        raise IngestError(f"{path}, line {header_row}: header has empty or repeated column names")
    return columns


def read_delimited(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land a CSV or TSV file; rows DuckDB's strict reader rejects come back as rejects."""
    text, used = decode(path, mapping.reader.encoding)
    delimiter = _delimiter(mapping)
    columns = _header(text, delimiter, mapping.reader.header_row, path)
    with tempfile.TemporaryDirectory(prefix="casebridge-") as folder:
        readable = path
        if used != "utf-8":
            readable = Path(folder) / "utf8.csv"
            readable.write_text(text.replace("\r\n", "\n"), encoding="utf-8")
        accepted, rejects = engine.read_delimited(
            readable, table, columns, delimiter, mapping.reader.header_row - 1
        )
    return RawFile(table, accepted + len(rejects), columns, rejects)


def read_jsonl(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land a JSON Lines file one line a row; lines that are not JSON are found later in SQL."""
    text, used = decode(path, mapping.reader.encoding)
    with tempfile.TemporaryDirectory(prefix="casebridge-") as folder:
        readable = path
        if used != "utf-8":
            readable = Path(folder) / "utf8.jsonl"
            readable.write_text(text, encoding="utf-8")
        rows = engine.read_lines(readable, table)
    return RawFile(table, rows, [], is_json=True)


def read_xlsx(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land one sheet of an xlsx workbook, every cell as text."""
    try:
        workbook = fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error types for unreadable files
        raise IngestError(f"{path}: not a readable xlsx workbook ({exc})") from exc
    sheet = mapping.reader.sheet or workbook.sheet_names[0]
    if sheet not in workbook.sheet_names:
        raise IngestError(
            f"{path}: no sheet {sheet!r}; sheets are {', '.join(workbook.sheet_names)}"
        )
    loaded = workbook.load_sheet(
        sheet, header_row=mapping.reader.header_row - 1, dtypes="string"
    ).to_arrow()
    if loaded.num_rows == 0:
        raise IngestError(f"{path}: sheet {sheet!r} has no rows below its header")
    numbers = pa.array(range(1, loaded.num_rows + 1), type=pa.int64())
    engine.create_table_from_arrow(table, loaded.add_column(0, "row_number", numbers))
    return RawFile(table, loaded.num_rows, [str(name) for name in loaded.column_names])


def read_parquet(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land a Parquet file with every column cast to text."""
    del mapping
    rows = engine.read_parquet_text(path, table)
    if rows == 0:
        raise IngestError(f"{path}: the file has no rows")
    return RawFile(table, rows, [c for c in engine.columns(table) if c != "row_number"])


READERS = {
    "csv": read_delimited,
    "tsv": read_delimited,
    "jsonl": read_jsonl,
    "xlsx": read_xlsx,
    "parquet": read_parquet,
}


def read_file(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land ``path`` as ``table`` with the reader its mapping's format names."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    return READERS[mapping.format](engine, path, mapping, table)
