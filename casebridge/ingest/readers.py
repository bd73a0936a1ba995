"""Readers: land one file as a raw table of text, every row numbered, rejects kept.

Text files are first copied as clean UTF-8 (encoding detected or declared, blank lines between
rows dropped), so that a row's number is its position among the file's data rows, the same in
every format. Line ends are left as the file has them: a CRLF inside a quoted value stays a
CRLF. CSV and TSV then go through DuckDB's strict CSV reader, which rejects rows broken as rows
and says where; JSON Lines land one line a row, parsed in SQL. xlsx comes through fastexcel and
Parquet through DuckDB, with typed cells written as text the date parsers read (ISO dates,
whole numbers without '.0'), cell by cell.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from casebridge.engine import Engine
from casebridge.errors import IngestError
from casebridge.ingest.mapping import Mapping

logger = logging.getLogger(__name__)
BOM = b"\xef\xbb\xbf"
BLANK_LINES = re.compile(r"^[ \t\f\v]*\r?\n", re.MULTILINE)
CHUNK = 1 << 20
# how fastexcel writes a date or date-time cell in a column it reads as text
CELL_DATE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?$"
NO_ROWS = "the file has a header but no rows; 0 rows loaded"
# JSON's escapes for NUL and the C1 controls (the last hex digit in either case)
JSON_CONTROL_ESCAPES = (b"\\u0000", b"\\u008", b"\\u009")


@dataclass
class RawFile:
    """A file landed as ``table``: counts, and the rows rejected while reading."""

    table: str
    rows_read: int
    columns: list[str]
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    is_json: bool = False
    lines_table: str | None = None  # (row_number, line): the verbatim text of each row
    header: list[str] = field(default_factory=list)  # the names as written, repeats and blanks
    note: str | None = None  # something the user should know, such as a file with no rows
    control_characters: bool = True  # whether a value may hold a NUL or a C1 control character

    def __post_init__(self) -> None:
        if not self.header:
            self.header = list(self.columns)


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
def clean_copy(path: Path, encoding: str, quoted: bool = True) -> Iterator[tuple[Path, int]]:
    """A UTF-8 copy of a text file without blank lines between rows; and its line count.

    Line ends stay as written (a CRLF in a quoted value is part of the value); only a file
    whose lines all end in a bare CR (classic Mac) has them made LF. With ``quoted`` (CSV),
    a blank line inside a quoted value is kept: quotes are counted, and a line end after an
    odd number of them is inside a value. Without it (JSON Lines, or a CSV whose stray quote
    upsets the count) every blank line goes.
    """
    with tempfile.TemporaryDirectory(prefix="casebridge-") as folder:
        target = Path(folder) / "clean.txt"
        lines, carry, quotes = 0, "", 0
        with (
            path.open(encoding=encoding, newline=_newline_mode(path)) as source,
            target.open("w", encoding="utf-8", newline="") as out,
        ):
            # whole chunks through one regular expression, not a Python loop per line
            while chunk := source.read(CHUNK):
                text = carry + chunk
                end = text.rfind("\n") + 1
                if quoted:
                    whole = _drop_blank_lines(text[:end], quotes)
                    quotes += text.count('"', 0, end)
                else:
                    whole = BLANK_LINES.sub("", text[:end])
                carry = text[end:]
                out.write(whole)
                lines += whole.count("\n")
            if carry.strip():
                out.write(carry + "\n")
                lines += 1
        if lines == 0:
            raise IngestError(f"{path}: the file is empty")
        yield target, lines


def _newline_mode(path: Path) -> str | None:
    """'' (keep line ends as written), or None (any line end becomes LF) for a file whose
    first megabyte has CRs and no LF at all."""
    with path.open("rb") as handle:
        head = handle.read(CHUNK)
    return None if b"\r" in head and b"\n" not in head else ""


def _drop_blank_lines(text: str, quotes_before: int) -> str:
    """``text`` without its blank lines, except those inside a quoted value (after an odd
    number of quotes, counting the ``quotes_before`` the text); one step per blank line."""
    kept, start, quotes = [], 0, quotes_before
    for blank in BLANK_LINES.finditer(text):
        quotes += text.count('"', start, blank.start())
        inside = quotes % 2 == 1
        kept.append(text[start : blank.end() if inside else blank.start()])
        start = blank.end()
    kept.append(text[start:])
    return "".join(kept)


def _delimiter(mapping: Mapping) -> str:
    if mapping.reader.delimiter:
        return mapping.reader.delimiter
    return "\t" if mapping.format == "tsv" else ","


def _header(
    path: Path, delimiter: str, header_row: int, shown: Path, by_position: bool
) -> tuple[list[str], list[str]]:
    """The header's names as written, and the names the landed table gets: the same, unless
    the mapping addresses columns by position, when repeated or blank names are allowed and
    made unique."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [handle.readline() for _ in range(header_row)]
    line = lines[-1]
    if not line:
        raise IngestError(f"{shown}: no header on line {header_row}; the file is shorter")
    header = [c.strip() for c in next(csv.reader(io.StringIO(line), delimiter=delimiter))]
    unique = len(set(header)) == len(header) and "" not in header
    if not unique and not by_position:
        raise IngestError(
            f"{shown}, line {header_row}: header has empty or repeated column names; name "
            "every column, or address the columns by position in the mapping ({position: N})"
        )
    return header, unique_names(header)


def unique_names(header: list[str]) -> list[str]:
    """Names for a header's columns, each unique: a repeated or blank one becomes
    ``column N`` (its position), with a further number if even that is taken."""
    taken = {name for name in header if name and header.count(name) == 1}
    names = []
    for position, name in enumerate(header, start=1):
        if name and header.count(name) == 1:
            names.append(name)
            continue
        candidate, suffix = f"column {position}", 1
        while candidate in taken:
            suffix += 1
            candidate = f"column {position} ({suffix})"
        taken.add(candidate)
        names.append(candidate)
    return names


def read_delimited(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land a CSV or TSV file; rows DuckDB's strict reader rejects come back as rejects.

    Blank lines inside quoted values are kept when the file's quotes pair up; where a stray
    quote in an unquoted field upsets that count (its rows then do not add up), the file is
    read again with every blank line dropped, as a file without such values needs."""
    encoding = detect_encoding(path, mapping.reader.encoding)
    landed = _land_delimited(engine, path, mapping, table, encoding, quoted=True)
    if landed.rows_read != landed.data_lines:
        landed = _land_delimited(engine, path, mapping, table, encoding, quoted=False)
    if landed.rows_read != landed.data_lines:
        raise IngestError(_unclosed_quote(path, encoding, landed.data_lines, landed.raw.rows_read))
    return landed.raw


@dataclass
class _Landed:
    """A delimited file as landed: the raw file, and the lines its rows must account for."""

    raw: RawFile
    data_lines: int
    rows_read: int  # rows plus the line ends inside accepted values: equals data_lines if whole


def _land_delimited(
    engine: Engine, path: Path, mapping: Mapping, table: str, encoding: str, quoted: bool
) -> _Landed:
    delimiter = _delimiter(mapping)
    header_row = mapping.reader.header_row
    by_position = bool(mapping.positions())
    with clean_copy(path, encoding, quoted) as (clean, lines):
        header, columns = _header(clean, delimiter, header_row, path, by_position)
        data_lines = max(lines - header_row, 0)
        accepted, rejects, newlines = engine.read_delimited(
            clean, table, columns, delimiter, header_row - 1
        )
        # a rejected row's line ends count too, unless its quoting is broken: then the lines
        # it swallowed may well be rows of their own, and the file needs fixing
        newlines += sum(row.count("\n") for _, row, errors in rejects if "UNQUOTED" not in errors)
        if newlines == 0:  # each row is one line: keep the lines, for quarantine verbatim
            engine.read_lines(clean, f"{table}_lines", skip=header_row)
        controls = file_holds_control_characters(clean)
    note = _no_rows(path) if data_lines == 0 else None
    raw = RawFile(table, accepted + len(rejects), columns, rejects, header=header, note=note,
                  lines_table=f"{table}_lines" if newlines == 0 else None,
                  control_characters=controls)  # fmt: skip
    return _Landed(raw, data_lines, accepted + len(rejects) + newlines)


def _no_rows(path: Path) -> str:
    """The note for a file with a header and nothing below it (logged: it is not an error)."""
    logger.warning("%s: %s", path.name, NO_ROWS)
    return NO_ROWS


def _unclosed_quote(path: Path, encoding: str, lines: int, rows: int) -> str:
    """The error for a file whose lines do not add up to its rows: a quote never closed,
    named by the line it opened on where quotes do not pair up (a scan on the error path)."""
    opened, quotes = 0, 0
    with path.open(encoding=encoding, newline=None) as handle:
        for number, line in enumerate(handle, start=1):
            count = line.count('"')
            if quotes % 2 == 0 and count % 2 == 1:
                opened = number
            quotes += count
    where = f", line {opened}" if quotes % 2 == 1 else ""
    return (
        f"{path}{where}: a quote opened in a field is probably never closed ({lines} lines "
        f"hold only {rows} rows). Fix the file, or quote it correctly"
    )


def read_jsonl(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land a JSON Lines file one line a row; lines that are not JSON are found in SQL."""
    encoding = detect_encoding(path, mapping.reader.encoding)
    with clean_copy(path, encoding, quoted=False) as (clean, _):  # JSON holds no raw line end
        rows = engine.read_lines(clean, table)
        controls = file_holds_control_characters(clean, json=True)
    return RawFile(table, rows, [], is_json=True, lines_table=table, control_characters=controls)


def file_holds_control_characters(path: Path, json: bool = False) -> bool:
    """Whether a UTF-8 file holds a NUL byte or a C1 control character anywhere (with
    ``json``, also as an escape from ``\\u0000`` to ``\\u009f``): when it does not, no value of
    it needs the per-value check (a fast scan of the bytes)."""
    carry = b""
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            text = carry + block
            if holds_control_characters(text) or (
                json and any(escape in text for escape in JSON_CONTROL_ESCAPES)
            ):
                return True
            carry = block[-5:]  # a character or an escape may straddle two blocks
    return False


def holds_control_characters(data: bytes | pa.Buffer) -> bool:
    """Whether UTF-8 bytes hold a NUL (00) or a C1 control character (C2 80 to C2 9F)."""
    if isinstance(data, bytes) and data.isascii():  # the usual case, and a fast one
        return b"\x00" in data
    octets = np.frombuffer(data, dtype=np.uint8)
    if not octets.all():  # a zero byte is a NUL
        return True
    following = octets[1:][octets[:-1] == 0xC2]
    return bool(((following >= 0x80) & (following <= 0x9F)).any())


def table_holds_control_characters(table: pa.Table) -> bool:
    """Whether any text value of an Arrow table may hold a NUL or a C1 control character
    (checked on the columns' byte buffers, so a slice may answer yes for a neighbour)."""
    return any(
        chunk.buffers()[2] is not None and holds_control_characters(chunk.buffers()[2])
        for column in table.columns
        for chunk in column.chunks
        if pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)
    )


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
    """Land one sheet of an xlsx workbook, every cell as text (a date cell as YYYY-MM-DD, a
    text cell as written, even in one column)."""
    try:
        workbook = fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error types for unreadable files
        raise IngestError(f"{path}: not a readable xlsx workbook ({exc})") from exc
    sheet = mapping.reader.sheet or workbook.sheet_names[0]
    if sheet not in workbook.sheet_names:
        raise IngestError(
            f"{path}: no sheet {sheet!r}; sheets are {', '.join(workbook.sheet_names)}"
        )
    skip = mapping.reader.header_row - 1
    # every row is read to type a column (not fastexcel's first 1,000): a text cell below a
    # thousand dates makes the column text, where it would otherwise come back empty
    loaded = workbook.load_sheet(sheet, header_row=skip, schema_sample_rows=None).to_arrow()
    if not loaded.column_names:
        raise IngestError(f"{path}: sheet {sheet!r} has no header on row {skip + 1}")
    header = _sheet_header(workbook, sheet, skip, [str(n) for n in loaded.column_names])
    if len(set(header)) != len(header) or "" in header:
        if not mapping.positions():
            raise IngestError(
                f"{path}, sheet {sheet!r}, row {skip + 1}: header has empty or repeated column "
                "names; name every column, or address the columns by position ({position: N})"
            )
        columns = unique_names(header)
    else:
        columns = [str(name) for name in loaded.column_names]
    dates = _date_cells(workbook, sheet, skip, loaded)
    cells = [_cell_text(loaded.column(i), dates.get(i)) for i in range(len(columns))]
    text = pa.table(dict(zip(columns, cells, strict=True)))
    numbers = pa.array(range(1, loaded.num_rows + 1), type=pa.int64())
    engine.create_table_from_arrow(table, text.add_column(0, "row_number", numbers), temporary=True)
    note = _no_rows(path) if loaded.num_rows == 0 else None
    controls = table_holds_control_characters(text)
    return RawFile(
        table, loaded.num_rows, columns, header=header, note=note, control_characters=controls
    )


def _sheet_header(
    workbook: fastexcel.ExcelReader, sheet: str, skip: int, names: list[str]
) -> list[str]:
    """The header row's cells as written (a blank one as ''); fastexcel's own ``names`` (which
    number repeats and blanks) if the row read does not fit them."""
    row = workbook.load_sheet(sheet, header_row=None, skip_rows=skip, n_rows=1, dtypes="string")
    cells = row.to_arrow().to_pylist()
    if not cells or len(cells[0]) != len(names):
        return names
    header = [("" if value is None else str(value).strip()) for value in cells[0].values()]
    fits = all(
        cell == name.strip()
        for cell, name in zip(header, names, strict=True)
        if cell and header.count(cell) == 1
    )
    return header if fits else names


def _date_cells(
    workbook: fastexcel.ExcelReader, sheet: str, skip: int, loaded: pa.RecordBatch
) -> dict[int, pa.Array]:
    """For each column fastexcel reads as text, the column read again as date-times: a date
    cell gives its date-time there, a text cell nothing (a number cell gives one too, which
    ``_cell_text`` tells apart by its text)."""
    text_columns = [i for i, kind in enumerate(loaded.schema.types) if pa.types.is_string(kind)]
    if not text_columns or loaded.num_rows == 0:
        return {}
    again = workbook.load_sheet(
        sheet,
        header_row=skip,
        use_columns=text_columns,
        dtypes=dict.fromkeys(text_columns, "datetime"),
    ).to_arrow()
    return {i: again.column(n) for n, i in enumerate(text_columns)}


def _cell_text(column: pa.Array, as_dates: pa.Array | None) -> pa.Array:
    """A sheet column as text; in a text column, the cells that were dates as YYYY-MM-DD."""
    if as_dates is None:
        return as_text(column)
    is_date = pc.and_(pc.is_valid(as_dates), pc.match_substring_regex(column, CELL_DATE_TIME))
    return pc.if_else(is_date, pc.strftime(as_dates, format="%Y-%m-%d"), column)


def read_parquet(engine: Engine, path: Path, mapping: Mapping, table: str) -> RawFile:
    """Land a Parquet file with every column as text, numbered in file order."""
    del mapping
    try:
        loaded = engine.read_parquet_arrow(path)
    except Exception as exc:  # DuckDB's own error types for unreadable files
        raise IngestError(f"{path}: not a readable Parquet file ({exc})") from exc
    text = pa.table({name: as_text(loaded[name]) for name in loaded.column_names})
    numbers = pa.array(range(1, loaded.num_rows + 1), type=pa.int64())
    engine.create_table_from_arrow(table, text.add_column(0, "row_number", numbers), temporary=True)
    note = _no_rows(path) if loaded.num_rows == 0 else None
    controls = table_holds_control_characters(text)
    return RawFile(
        table, loaded.num_rows, list(loaded.column_names), note=note, control_characters=controls
    )


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
