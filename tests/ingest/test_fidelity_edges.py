"""Hostile files, each written by hand: what a reader must keep exactly as the file has it.

The extracts follow the shapes of real exports (RFC 4180 CSV with Windows line ends, a
spreadsheet whose date column also holds text, a file declared latin-1 that is really
Windows-1252) with invented people only.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import polars as pl
import pytest
import sqlglot
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from casebridge.errors import IngestError, MappingError
from casebridge.ingest.mapping import load_mapping
from casebridge.ingest.run import ingest
from casebridge.workspace import open_workspace
from tests.ingest.helpers import JSON_PEOPLE_MAPPING, make_workspace, query_rows
from tests.spark import untranspilable

PEOPLE = """\
source: s
format: {format}
reader: {{encoding: {encoding}}}
persons:
  - local_id: ID
    surname: Surname
    forenames: Forename
    date_of_birth: {{column: DOB, formats: ["%Y-%m-%d", "%d/%m/%Y"]}}
    address: Address
"""
CRIMES = """\
source: s
format: csv
event:
  local_id: Ref
  kind: {constant: crime}
  date: {column: Date, formats: ["%d/%m/%Y"]}
  outcome_date: {column: Closed, formats: ["%d/%m/%Y"]}
persons:
  - local_id: ID
    role: Role
    surname: Surname
    date_of_birth: {column: DOB, formats: ["%d/%m/%Y"]}
"""


def _source(tmp_path: Path, name: str, mapping: str, path: str | None = None) -> Path:
    root = tmp_path / "w"
    make_workspace(root, {"s": (name, "", mapping)})
    if path is not None:
        settings = root / "casebridge.toml"
        text = settings.read_text(encoding="utf-8")
        settings.write_text(text.replace(f'"extracts/{name}"', f'"{path}"'), encoding="utf-8")
    return root


def _people(tmp_path: Path, data: bytes, fmt: str = "csv", encoding: str = "auto") -> Path:
    root = _source(tmp_path, f"data.{fmt}", PEOPLE.format(format=fmt, encoding=encoding))
    (root / "extracts" / f"data.{fmt}").write_bytes(data)
    return root


def _counts(root: Path) -> tuple[int, int, int]:
    [report] = ingest(open_workspace(root))
    return report.rows_read, report.rows_loaded, report.rows_quarantined


# 1. line ends inside values --------------------------------------------------------------


def test_a_crlf_inside_a_quoted_value_is_kept_as_crlf(tmp_path: Path) -> None:
    data = (
        b"ID,Surname,Forename,DOB,Address\r\n"
        b'A1,Khan,Aisha,2009-01-02,"Flat 2\r\n14 Mill Lane"\r\n'
        b'A2,Lee,Sam,2008-01-01,"Unit 5\n\nCanal Road"\r\n'
        b"A3,Nowak,Zofia,2010-03-04,3 Park Row\r\n"
    )
    root = _people(tmp_path, data)
    assert _counts(root) == (3, 3, 0)
    assert query_rows(root, "SELECT local_id, address FROM person_record ORDER BY 1") == [
        ("A1", "Flat 2\r\n14 Mill Lane"),
        ("A2", "Unit 5\n\nCanal Road"),
        ("A3", "3 Park Row"),
    ]


def test_a_quarantined_row_of_a_crlf_file_has_no_line_end(tmp_path: Path) -> None:
    data = b"ID,Surname,Forename,DOB,Address\r\n,Khan,Aisha,2009-01-02,x\r\nA2,Lee,Sam,,y\r\n"
    root = _people(tmp_path, data)
    assert _counts(root) == (2, 1, 1)
    assert query_rows(root, "SELECT row_number, raw_row FROM quarantine") == [
        (1, ",Khan,Aisha,2009-01-02,x")
    ]


# 2. quarantine keeps the whole row -----------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "extra", "reasons"),
    [
        (20_000, ",one field too many", ["too many fields"]),
        (2 * 1024 * 1024 + 7, ",one field too many", ["line too long", "too many fields"]),
        (2 * 1024 * 1024 + 7, "", ["line too long"]),
    ],
)
def test_quarantine_keeps_the_whole_row_however_long(
    tmp_path: Path, size: int, extra: str, reasons: list[str]
) -> None:
    long_row = "A1,Khan,Aisha,2009-01-02," + "x" * size + extra
    data = f"ID,Surname,Forename,DOB,Address\n{long_row}\nA2,Lee,Sam,,y\n".encode()
    root = _people(tmp_path, data)
    assert _counts(root) == (2, 1, 1)
    [(row, raw_row, why)] = query_rows(root, "SELECT row_number, raw_row, reasons FROM quarantine")
    assert (row, why) == (1, reasons)
    assert raw_row == long_row


def test_a_long_rejected_row_spanning_lines_is_kept_whole(tmp_path: Path) -> None:
    long_row = 'A1,Khan,Aisha,2009-01-02,"' + "y" * 15_000 + '\r\nz",extra'
    data = f"ID,Surname,Forename,DOB,Address\r\n{long_row}\r\nA2,Lee,Sam,,y\r\n".encode()
    root = _people(tmp_path, data)
    [report] = ingest(open_workspace(root))
    assert (report.rows_quarantined, report.rows_loaded) == (1, 1)
    assert query_rows(root, "SELECT raw_row FROM quarantine") == [(long_row,)]


# 3. a header and no rows -------------------------------------------------------------------


def test_a_csv_with_a_header_and_no_rows_loads_nothing_with_a_note(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = _people(tmp_path, b"ID,Surname,Forename,DOB,Address\r\n\r\n")
    with caplog.at_level(logging.WARNING, logger="casebridge.ingest.readers"):
        assert _counts(root) == (0, 0, 0)
    assert "data.csv: the file has a header but no rows" in caplog.text
    assert query_rows(root, "SELECT rows_read, rows_loaded FROM source") == [(0, 0)]


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_a_sheet_or_parquet_file_with_no_rows_loads_nothing_with_a_note(
    tmp_path: Path, fmt: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = _source(tmp_path, f"data.{fmt}", PEOPLE.format(format=fmt, encoding="auto"))
    target = root / "extracts" / f"data.{fmt}"
    if fmt == "xlsx":
        book = xlsxwriter.Workbook(target)
        book.add_worksheet("Referrals").write_row(0, 0, ["ID", "Surname", "Forename", "DOB"])
        book.close()
    else:
        columns = ["ID", "Surname", "Forename", "DOB", "Address"]
        pl.DataFrame(schema=dict.fromkeys(columns, pl.String)).write_parquet(target)
    mapping = root / "mappings" / "s.yaml"
    if fmt == "xlsx":  # the sheet has no Address column
        mapping.write_text(mapping.read_text().replace("    address: Address\n", ""))
    with caplog.at_level(logging.WARNING, logger="casebridge.ingest.readers"):
        assert _counts(root) == (0, 0, 0)
    assert "has a header but no rows" in caplog.text


# 4. an unclosed quote ------------------------------------------------------------------------


def test_an_unclosed_quote_is_named_by_the_line_it_opened_on(tmp_path: Path) -> None:
    data = (
        b"ID,Surname,Forename,DOB,Address\n"
        b'A1,Khan,Aisha,2009-01-02,"1 Mill Lane, Leeds"\n'
        b"\n"
        b'A2,Lee,Sam,2008-01-01,"5 Canal Road\n'
        b"A3,Nowak,Zofia,2010-03-04,3 Park Row\n"
        b"A4,Begum,Amina,2011-04-05,9 Hill Top\n"
    )
    root = _people(tmp_path, data)
    with pytest.raises(IngestError, match=r"data\.csv, line 4: a quote .* never closed"):
        ingest(open_workspace(root))
    assert query_rows(root, "SELECT count(*) FROM person_record") == [(0,)]


# 5. a path with brackets -----------------------------------------------------------------------

ROWS = b"ID,Surname,Forename,DOB,Address\nA1,Khan,Aisha,2009-01-02,x\n"


@pytest.mark.parametrize(
    "path", ["extract [2024]/data.csv", "extract [2024]/*.csv", "extract [2024]/data[1].csv"]
)
def test_a_path_with_brackets_is_a_path_and_a_star_still_globs(tmp_path: Path, path: str) -> None:
    root = _source(tmp_path, "data.csv", PEOPLE.format(format="csv", encoding="auto"), path)
    folder = root / "extract [2024]"
    folder.mkdir()
    (folder / "data.csv").write_bytes(ROWS)
    (folder / "data[1].csv").write_bytes(ROWS.replace(b"A1", b"B1"))
    (folder / "data1.csv").write_bytes(ROWS.replace(b"A1", b"C1"))  # what [1] would glob
    expected = {
        "extract [2024]/data.csv": [("A1",)],
        "extract [2024]/*.csv": [("A1",), ("B1",), ("C1",)],
        "extract [2024]/data[1].csv": [("B1",)],
    }[path]
    ingest(open_workspace(root))
    assert query_rows(root, "SELECT local_id FROM person_record ORDER BY 1") == expected


# 6. spreadsheet dates, cell by cell ---------------------------------------------------------


def write_mixed_date_sheet(target: Path) -> None:
    """A sheet whose DOB column mixes date cells, a date-time cell, a number and text."""
    book = xlsxwriter.Workbook(target)
    sheet = book.add_worksheet("Pupils")
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    moment = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    sheet.write_row(0, 0, ["ID", "Surname", "Forename", "DOB"])
    for row, (local_id, surname) in enumerate(
        [("A1", "Khan"), ("A2", "Lee"), ("A3", "Nowak"), ("A4", "Begum"), ("A5", "Ali")], 1
    ):
        sheet.write_string(row, 0, local_id)
        sheet.write_string(row, 1, surname)
        sheet.write_string(row, 2, "X")
    sheet.write_datetime(1, 3, dt.datetime(2009, 1, 2), day)
    sheet.write_datetime(2, 3, dt.datetime(2010, 3, 4, 13, 30), moment)
    sheet.write_string(3, 3, "unknown")
    sheet.write_string(4, 3, "12/03/2009")
    sheet.write_string(5, 3, "2009-01-02 00:00:00")  # text that looks like a date-time cell
    book.close()


def test_a_column_mixing_date_cells_and_text_is_read_cell_by_cell(tmp_path: Path) -> None:
    root = _source(tmp_path, "data.xlsx", PEOPLE.format(format="xlsx", encoding="auto"))
    mapping = root / "mappings" / "s.yaml"
    mapping.write_text(mapping.read_text().replace("    address: Address\n", ""))
    write_mixed_date_sheet(root / "extracts" / "data.xlsx")
    assert _counts(root) == (5, 5, 0)
    assert query_rows(
        root, "SELECT local_id, dob_raw, date_of_birth FROM person_record ORDER BY 1"
    ) == [
        ("A1", "2009-01-02", dt.date(2009, 1, 2)),
        ("A2", "2010-03-04", dt.date(2010, 3, 4)),
        ("A3", "unknown", None),
        ("A4", "12/03/2009", dt.date(2009, 3, 12)),
        ("A5", "2009-01-02 00:00:00", None),
    ]
    assert query_rows(root, "SELECT local_id, problem FROM finding ORDER BY 1") == [
        ("A3", "unrecognised_date"),
        ("A5", "unrecognised_date"),
    ]


def test_a_number_cell_in_a_text_column_stays_a_number(tmp_path: Path) -> None:
    root = _source(tmp_path, "data.xlsx", PEOPLE.format(format="xlsx", encoding="auto"))
    book = xlsxwriter.Workbook(root / "extracts" / "data.xlsx")
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["ID", "Surname", "Forename", "DOB", "Address"])
    sheet.write_row(1, 0, [45000, "Khan", "Aisha", "", "x"])
    sheet.write_row(2, 0, ["A2", "Lee", "Sam", "", "y"])
    book.close()
    assert _counts(root) == (2, 2, 0)
    assert query_rows(root, "SELECT local_id FROM person_record ORDER BY 1") == [
        ("45000",), ("A2",),
    ]  # fmt: skip


# 7. NUL bytes and C1 control characters ------------------------------------------------------


def test_a_nul_byte_is_kept_and_recorded_as_a_finding(tmp_path: Path) -> None:
    data = b"ID,Surname,Forename,DOB,Address\nA1,Kh\x00an,Aisha,,x\nA2,Lee,Sam,,y\n"
    root = _people(tmp_path, data)
    assert _counts(root) == (2, 2, 0)
    assert query_rows(root, "SELECT surname_raw FROM person_record WHERE local_id = 'A1'") == [
        ("Kh\x00an",)
    ]
    assert query_rows(
        root, "SELECT file_name, row_number, local_id, field, source_field, problem FROM finding"
    ) == [("data.csv", 1, "A1", "surname", "Surname", "nul_byte")]


def test_windows_1252_bytes_read_as_latin1_are_kept_and_recorded(tmp_path: Path) -> None:
    # 0x93 and 0x94 are Windows-1252's curly quotes; under latin-1 they are C1 controls
    data = b'ID,Surname,Forename,DOB,Address\nA1,Khan,\x93Aisha\x94,,x\nA2,Lee,Sam,,"\x85"\n'
    root = _people(tmp_path, data, encoding="latin-1")
    assert _counts(root) == (2, 2, 0)
    assert query_rows(root, "SELECT forenames_raw FROM person_record WHERE local_id = 'A1'") == [
        ("\x93Aisha\x94",)
    ]
    assert query_rows(
        root, "SELECT row_number, local_id, field, raw_value, problem FROM finding ORDER BY 1"
    ) == [
        (1, "A1", "forenames", "\x93Aisha\x94", "c1_control_character"),
        (2, "A2", "address", "\x85", "c1_control_character"),
    ]


def test_the_same_bytes_read_as_windows_1252_are_no_finding(tmp_path: Path) -> None:
    data = b"ID,Surname,Forename,DOB,Address\nA1,Khan,\x93Aisha\x94,,x\n"
    root = _people(tmp_path, data, encoding="cp1252")
    assert _counts(root) == (1, 1, 0)
    assert query_rows(root, "SELECT forenames_raw FROM person_record") == [("\u201cAisha\u201d",)]
    assert query_rows(root, "SELECT count(*) FROM finding") == [(0,)]


def test_a_quarantined_row_gets_no_character_finding(tmp_path: Path) -> None:
    data = b"ID,Surname,Forename,DOB,Address\n,Kh\x00an,Aisha,,x\n"
    root = _people(tmp_path, data)
    assert _counts(root) == (1, 0, 1)
    assert query_rows(root, "SELECT count(*) FROM finding") == [(0,)]


# 8. implausible dates ------------------------------------------------------------------------


def test_implausible_dates_are_row_findings_and_the_values_load(tmp_path: Path) -> None:
    text = (
        "Ref,ID,Role,Surname,DOB,Date,Closed\n"
        "C1,P1,Victim,Khan,02/01/2009,05/06/2021,01/07/2021\n"  # plausible
        "C2,P2,Victim,Lee,05/06/2023,05/06/2021,\n"  # born two years after the offence
        "C3,P3,Suspect,Nowak,01/01/1980,05/06/2021,04/06/2021\n"  # closed the day before
        "C4,P4,Victim,Begum,05/06/2021,05/06/2021,05/06/2021\n"  # born that day: possible
    )
    root = _source(tmp_path, "data.csv", CRIMES)
    (root / "extracts" / "data.csv").write_text(text)
    assert _counts(root) == (4, 4, 0)
    assert query_rows(
        root,
        "SELECT row_number, local_id, field, source_field, raw_value, problem FROM finding "
        "ORDER BY row_number",
    ) == [
        (2, "P2", "date_of_birth", "DOB", "05/06/2023",
         "implausible_date: birth after the event date"),
        (3, "C3", "outcome_date", "Closed", "04/06/2021",
         "implausible_date: outcome before the event date"),
    ]  # fmt: skip
    assert query_rows(root, "SELECT date_of_birth FROM person_record WHERE local_id = 'P2'") == [
        (dt.date(2023, 6, 5),)
    ]


def test_a_birth_year_after_the_event_is_implausible_only_if_the_whole_year_is(
    tmp_path: Path,
) -> None:
    text = "Ref,ID,Role,Surname,DOB,Date,Closed\nC1,P1,Victim,Khan,2021,05/06/2021,\n"
    root = _source(tmp_path, "data.csv", CRIMES.replace('["%d/%m/%Y"]}\n', '["%d/%m/%Y", "%Y"]}\n'))
    (root / "extracts" / "data.csv").write_text(text + "C2,P2,Victim,Lee,2022,05/06/2021,\n")
    ingest(open_workspace(root))
    assert query_rows(root, "SELECT local_id FROM finding") == [("P2",)]


# 9. columns by position ------------------------------------------------------------------------

BY_POSITION = """\
source: s
format: {format}
persons:
  - local_id: {{column: {{position: 1}}}}
    surname: {{column: {{position: 2}}}}
    forenames: {{column: {{position: 3}}}}
    address: {{column: {{position: 5}}}}
    date_of_birth: DOB
"""
REPEATED = "ID,Name,Name,DOB,\nA1,Khan,Aisha,2009-01-02,1 Mill Lane\nA2,Lee,Sam,,\n"


def test_repeated_and_blank_headers_are_read_by_position(tmp_path: Path) -> None:
    root = _source(tmp_path, "data.csv", BY_POSITION.format(format="csv"))
    (root / "extracts" / "data.csv").write_text(REPEATED)
    assert _counts(root) == (2, 2, 0)
    assert query_rows(
        root, "SELECT local_id, surname, forename, address, dob_raw FROM person_record ORDER BY 1"
    ) == [
        ("A1", "khan", "aisha", "1 Mill Lane", "2009-01-02"),
        ("A2", "lee", "sam", None, None),
    ]


def test_repeated_headers_in_a_spreadsheet_are_read_by_position(tmp_path: Path) -> None:
    root = _source(tmp_path, "data.xlsx", BY_POSITION.format(format="xlsx"))
    book = xlsxwriter.Workbook(root / "extracts" / "data.xlsx")
    sheet = book.add_worksheet()
    for row, line in enumerate(REPEATED.splitlines()):
        sheet.write_row(row, 0, line.split(","))
    book.close()
    assert _counts(root) == (2, 2, 0)
    assert query_rows(root, "SELECT surname, forename, address FROM person_record ORDER BY 1") == [
        ("khan", "aisha", "1 Mill Lane"), ("lee", "sam", None),
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_repeated_headers_without_positions_are_still_refused(tmp_path: Path, fmt: str) -> None:
    mapping = PEOPLE.format(format=fmt, encoding="auto").replace("Address", "DOB")
    root = _source(tmp_path, f"data.{fmt}", mapping)
    target = root / "extracts" / f"data.{fmt}"
    if fmt == "csv":
        target.write_text("ID,Surname,Forename,DOB,DOB\nA1,Khan,Aisha,,\n")
    else:
        book = xlsxwriter.Workbook(target)
        book.add_worksheet().write_row(0, 0, ["ID", "Surname", "Forename", "DOB", "DOB"])
        book.close()
    with pytest.raises(IngestError, match="empty or repeated column names.*position"):
        ingest(open_workspace(root))


def test_a_repeated_header_named_by_name_is_ambiguous(tmp_path: Path) -> None:
    mapping = BY_POSITION.format(format="csv").replace("{column: {position: 2}}", "Name")
    root = _source(tmp_path, "data.csv", mapping)
    (root / "extracts" / "data.csv").write_text(REPEATED)
    with pytest.raises(IngestError, match="'Name' appears 2 times in the header"):
        ingest(open_workspace(root))


def test_a_position_past_the_last_column_is_an_error(tmp_path: Path) -> None:
    mapping = BY_POSITION.format(format="csv").replace("position: 5", "position: 9")
    root = _source(tmp_path, "data.csv", mapping)
    (root / "extracts" / "data.csv").write_text(REPEATED)
    with pytest.raises(IngestError, match="column at position 9 but the file has only 5"):
        ingest(open_workspace(root))


def test_a_position_reads_a_header_named_like_a_position_by_name(tmp_path: Path) -> None:
    # a real column called "#2" or "position 2" is a name, never a position
    mapping = BY_POSITION.format(format="csv").replace("{column: {position: 2}}", '"position 2"')
    root = _source(tmp_path, "data.csv", mapping)
    (root / "extracts" / "data.csv").write_text(REPEATED.replace("ID,Name,Name", "ID,position 2,N"))
    ingest(open_workspace(root))
    assert query_rows(root, "SELECT surname FROM person_record ORDER BY 1") == [("khan",), ("lee",)]


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        ("parquet", "{position: 2}", "persons.0.local_id: 'column: {position: N}' needs format"),
        ("jsonl", "{position: 2}", "needs format csv, tsv or xlsx; jsonl columns are named"),
        ("csv", "{position: 0}", "{position: N} with N counting from 1"),
        ("csv", "{place: 2}", "{position: N} with N counting from 1"),
    ],
)
def test_a_position_where_it_makes_no_sense_is_a_mapping_error(
    tmp_path: Path, fmt: str, value: str, expected: str
) -> None:
    path = tmp_path / "m.yaml"
    text = BY_POSITION.format(format=fmt).replace("{position: 2}", value, 1)
    path.write_text(text)
    with pytest.raises(MappingError, match=r"m\.yaml, line \d+: .*" + re.escape(expected)):
        load_mapping(path)


# the checks themselves ------------------------------------------------------------------------


def test_the_fidelity_statements_transpile_to_spark(tmp_path: Path) -> None:
    from casebridge.ingest.fidelity import (
        birth_after_event_sql,
        character_findings_sql,
        outcome_before_event_sql,
    )

    statements = [
        *character_findings_sql("s", "f.csv", "cb_person_rows", {"surname": "Surname"}),
        birth_after_event_sql("s", "cb_people", "cb_events", "DOB"),
        outcome_before_event_sql("s", "cb_events", "Closed"),
    ]
    assert untranspilable(statements) == []
    spark = [sqlglot.transpile(s, read="duckdb", write="spark")[0] for s in statements[:2]]
    assert "RLIKE" in spark[1] or "REGEXP" in spark[1].upper()


@given(st.text(), st.text(), st.sampled_from(["\x00", "\x80", "\x85", "\x9f"]))
def test_a_control_character_is_found_wherever_it_falls(
    before: str, after: str, control: str
) -> None:
    from casebridge.ingest.readers import holds_control_characters

    clean = "".join(c for c in before + after if c != "\x00" and not "\x80" <= c <= "\x9f")
    assert not holds_control_characters(clean.encode())
    assert holds_control_characters((before + control + after).encode())


def test_a_c1_character_across_two_blocks_is_found(tmp_path: Path) -> None:
    from casebridge.ingest import readers

    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * (readers.CHUNK - 1) + "\x85".encode() + b"y")
    assert readers.file_holds_control_characters(path)
    path.write_bytes(b"x" * (readers.CHUNK - 1) + "\xa3".encode() + b"y")  # a pound sign
    assert not readers.file_holds_control_characters(path)


def test_control_characters_written_as_json_escapes_are_found(tmp_path: Path) -> None:
    root = tmp_path / "w"
    make_workspace(root, {"s": ("data.jsonl", "", JSON_PEOPLE_MAPPING)})
    lines = [
        '{"ref": "R1", "people": [{"id": "1", "name": "Ali Kh\\u0000an"}]}',
        '{"ref": "R2", "people": [{"id": "2", "name": "\\u0093Jo\\u0094 Smith"}]}',
        '{"ref": "R3", "people": [{"id": "3", "name": "Sam \\u00a3ee"}]}',
    ]
    (root / "extracts" / "data.jsonl").write_text("\n".join(lines) + "\n")
    assert _counts(root) == (3, 3, 0)
    assert query_rows(root, "SELECT local_id, field, problem FROM finding ORDER BY 1") == [
        ("R1-1", "full_name", "nul_byte"),
        ("R2-2", "full_name", "c1_control_character"),
    ]


# a stray quote must not upset the handling of blank lines (found in review) ----------------


def test_a_stray_quote_in_an_unquoted_field_and_a_blank_line_still_load(tmp_path: Path) -> None:
    # a height written 5'10" in an unquoted field, then a blank line between rows
    data = (
        b"ID,Surname,Forename,DOB,Address\r\n"
        b"P1,Moyo,Tendai,2001-02-03,flat 5'10\" high street\r\n"
        b"\r\n"
        b"P2,Banda,Chipo,2002-03-04,12 Mill Lane\r\n"
    )
    root = _people(tmp_path, data)
    read, loaded, quarantined = _counts(root)
    assert read == loaded + quarantined == 2
    assert query_rows(root, "SELECT local_id FROM person_record WHERE local_id = 'P2'") == [("P2",)]


def test_an_escaped_quote_in_json_and_a_blank_crlf_line_make_no_phantom_row(
    tmp_path: Path,
) -> None:
    data = (
        b'{"ID": "P1", "Surname": "O\\"Hara", "Forename": "Aoife"}\r\n'
        b"\r\n"
        b'{"ID": "P2", "Surname": "Walsh", "Forename": "Niamh"}\r\n'
    )
    mapping = "\n".join(
        line
        for line in PEOPLE.format(format="jsonl", encoding="auto").splitlines()
        if "DOB" not in line and "Address" not in line
    )
    root = _source(tmp_path, "data.jsonl", mapping)
    (root / "extracts" / "data.jsonl").write_bytes(data)
    assert _counts(root) == (2, 2, 0)
    assert query_rows(root, "SELECT row_number FROM person_observation ORDER BY 1") == [
        (1,), (2,),
    ]  # fmt: skip


def test_text_cells_below_a_thousand_typed_cells_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet, day = workbook.add_worksheet(), workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["ID", "Surname", "DOB"])
    for row in range(1, 1201):
        sheet.write_number(row, 0, row)
        sheet.write_string(row, 1, "Okonkwo")
        sheet.write_datetime(row, 2, dt.datetime(2000, 1, 1) + dt.timedelta(days=row), day)
    sheet.write_row(1201, 0, ["A-77", "Mensah", "12/03/1990"])
    sheet.write_row(1202, 0, ["B-78", "Boateng", "unknown"])
    workbook.close()
    mapping = (
        PEOPLE.format(format="xlsx", encoding="auto")
        .replace("    address: Address\n", "")
        .replace("    forenames: Forename\n", "")
    )
    root = _source(tmp_path, "many.xlsx", mapping)
    (root / "extracts" / "many.xlsx").write_bytes(path.read_bytes())
    assert _counts(root) == (1202, 1202, 0)
    rows = query_rows(
        root,
        "SELECT local_id, date_of_birth_raw, date_of_birth FROM person_observation "
        "WHERE row_number IN (1, 1201, 1202) ORDER BY row_number",
    )
    assert [(local_id, raw, str(born)) for local_id, raw, born in rows] == [
        ("1", "2000-01-02", "2000-01-02"),
        ("A-77", "12/03/1990", "1990-03-12"),
        ("B-78", "unknown", "None"),
    ]
