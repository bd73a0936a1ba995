"""Readers: land one file as a raw table of text, every row numbered, rejects kept.

Text files are first copied as clean UTF-8 (encoding detected or declared, line ends made
plain, blank lines dropped), so that a row's number is its position among the file's data
rows, the same in every format. CSV and TSV then go through DuckDB's strict CSV reader, which
rejects rows broken as rows and says where; JSON Lines land one line a row, parsed in SQL.
xlsx comes through fastexcel and Parquet through DuckDB, with typed cells written as text the
date parsers read (ISO dates, whole numbers without '.0').
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import pyarrow as pa
import pyarrow.compute as pc

from casebridge.engine import Engine
from casebridge.errors import IngestError
from casebridge.ingest.mapping import Mapping

BOM = b"\xef\xbb\xbf"
BLANK_LINES = re.compile(r"^[ \t\f\v]*\n", re.MULTILINE)
CHUNK = 1 << 20


@dataclass
class RawFile:
    """A file landed as ``table``: counts, and the rows rejected while reading."""

    table: str
    rows_read: int
    columns: list[str]
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    is_json: bool = False
    lines_table: str | None = None  # (row_number, line): the verbatim text of each row


def _undecodable(path: Path, encoding: str) -> tuple[int, int] | None:
    """(offset, byte) where the file first fails to decode in ``encoding``; None if it decodes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start, chunk[exc.start]
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset, 0
    return None


def detect_encoding(path: Path, declared: str) -> str:
    """The declared encoding (checked), or UTF-8 if the file is valid UTF-8, else cp1252, else
    latin-1. A byte-order mark is always dropped."""
    with path.open("rb") as handle:
        has_bom = handle.read(3) == BOM
    if declared != "auto":
        chosen = "utf-8-sig" if declared in ("utf-8", "utf-8-sig") else declared
        bad = _undecodable(path, chosen)
        if bad:
            raise IngestError(
                f"{path}: not readable as {declared} (byte {bad[1]:#04x} at offset {bad[0]}); "
                "declare the right encoding, or 'auto', in the mapping"
            )
        return chosen
    if has_bom:
        return "utf-8-sig"
    for candidate in ("utf-8", "cp1252"):
        if _undecodable(path, candidate) is None:
            return candidate
    return "latin-1"


@contextmanager
def clean_copy(path: Path, encoding: str) -> Iterator[tuple[Path, int]]:
    """A UTF-8 copy of a text file with plain line ends and no blank lines; and its line count."""
    with tempfile.TemporaryDirectory(prefix="casebridge-") as folder:
        target = Path(folder) / "clean.txt"
        lines, carry = 0, ""
        with (
            path.open(encoding=encoding, newline=None) as source,  # any line end becomes \n
            target.open("w", encoding="utf-8", newline="\n") as out,
        ):
            # whole chunks through one regular expression, not a Python loop per line
            while chunk := source.read(CHUNK):
                text = carry + chunk
                end = text.rfind("\n") + 1
                whole, carry = BLANK_LINES.sub("", text[:end]), text[end:]
                out.write(whole)
                lines += whole.count("\n")
            if carry.strip():
                out.write(carry + "\n")
                lines += 1
        if lines == 0:
            raise IngestError(f"{path}: the file is empty")
        yield target, lines


def _delimiter(mapping: Mapping) -> str:
    if mapping.reader.delimiter:
        return mapping.reader.delimiter
    return "\t" if mapping.format == "tsv" else ","


def _header(path: Path, delimiter: str, header_row: int, shown: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        lines = [handle.readline() for _ in range(header_row)]
    line = lines[-1]
    if not line:
        raise IngestError(f"{shown}: no header on line {header_row}; the file is shorter")
    columns = [c.strip() for c in next(csv.reader(io.StringIO(line), delimiter=delimiter))]
    if len(set(columns)) != len(columns) or "" in columns:
        raise IngestError(f"{shown}, line {header_row}: header has empty or repeated column names")
    return columns


def read_delimited(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land a CSV or TSV file; rows DuckDB's strict reader rejects come back as rejects."""
    encoding = detect_encoding(path, mapping.reader.encoding)
    delimiter = _delimiter(mapping)
    header_row = mapping.reader.header_row
    with clean_copy(path, encoding) as (clean, lines):
        columns = _header(clean, delimiter, header_row, path)
        data_lines = lines - header_row
        if data_lines <= 0:
            raise IngestError(f"{path}: the file has a header but no rows")
        accepted, rejects, newlines = engine.read_delimited(
            clean, table, columns, delimiter, header_row - 1
        )
        if newlines == 0:  # each row is one line: keep the lines, for quarantine verbatim
            engine.read_lines(clean, f"{table}_lines", skip=header_row)
    if accepted + len(rejects) + newlines != data_lines:
        raise IngestError(
            f"{path}: {data_lines} lines hold only {accepted + len(rejects)} rows; a quote "
            "opened in a field is probably never closed. Fix the file, or quote it correctly"
        )
    return RawFile(table, accepted + len(rejects), columns, rejects,
                   lines_table=f"{table}_lines" if newlines == 0 else None)  # fmt: skip


def read_jsonl(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land a JSON Lines file one line a row; lines that are not JSON are found in SQL."""
    encoding = detect_encoding(path, mapping.reader.encoding)
    with clean_copy(path, encoding) as (clean, _):
        rows = engine.read_lines(clean, table)
    return RawFile(table, rows, [], is_json=True, lines_table=table)


def as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A typed column as the text the standardisers read: ISO dates, whole numbers plain."""
    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        # the standard holds dates, not times: a date cell arrives as YYYY-MM-DD
        return pc.strftime(column, format="%Y-%m-%d")
    if pa.types.is_floating(kind):
        whole = pc.equal(column, pc.floor(column))
        as_int = pc.cast(pc.cast(pc.floor(column), pa.int64()), pa.string())
        return pc.if_else(whole, as_int, pc.cast(column, pa.string()))
    return pc.cast(column, pa.string())


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
    loaded = workbook.load_sheet(sheet, header_row=mapping.reader.header_row - 1).to_arrow()
    if loaded.num_rows == 0:
        raise IngestError(f"{path}: sheet {sheet!r} has no rows below its header")
    text = pa.table({name: as_text(loaded[name]) for name in loaded.column_names})
    numbers = pa.array(range(1, loaded.num_rows + 1), type=pa.int64())
    engine.create_table_from_arrow(table, text.add_column(0, "row_number", numbers), temporary=True)
    return RawFile(table, loaded.num_rows, [str(name) for name in loaded.column_names])


def read_parquet(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land a Parquet file with every column as text, numbered in file order."""
    del mapping
    try:
        loaded = engine.read_parquet_arrow(path)
    except Exception as exc:  # DuckDB's own error types for unreadable files
        raise IngestError(f"{path}: not a readable Parquet file ({exc})") from exc
    if loaded.num_rows == 0:
        raise IngestError(f"{path}: the file has no rows")
    text = pa.table({name: as_text(loaded[name]) for name in loaded.column_names})
    numbers = pa.array(range(1, loaded.num_rows + 1), type=pa.int64())
    engine.create_table_from_arrow(table, text.add_column(0, "row_number", numbers), temporary=True)
    return RawFile(table, loaded.num_rows, list(loaded.column_names))


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
