"""Each reader lands its format with every row numbered and broken rows kept."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from casebridge.errors import IngestError
from casebridge.ingest.run import ingest
from casebridge.workspace import open_workspace
from tests.ingest.helpers import JSON_PEOPLE_MAPPING, make_workspace, query_rows

PEOPLE_ONLY = """\
source: {key}
format: {format}
reader: {{encoding: auto{reader}}}
persons:
  - local_id: ID
    surname: Surname
    forenames: Forename
    date_of_birth: {{column: DOB, formats: ["%Y-%m-%d"]}}
"""


def _workspace(tmp_path: Path, key: str, fmt: str, reader: str = "") -> Path:
    mapping = PEOPLE_ONLY.format(key=key, format=fmt, reader=reader)
    make_workspace(tmp_path / "w", {key: (f"data.{fmt}", "", mapping)})
    return tmp_path / "w"


def test_tsv_with_a_byte_order_mark_and_a_row_too_long(tmp_path: Path) -> None:
    root = _workspace(tmp_path, "s", "tsv", ', delimiter: "\\t"')
    text = (
        "\ufeffID\tSurname\tForename\tDOB\n"
        "A1\tKhan\tAisha\t2009-01-02\nA2\tLee\tSam\t2008-01-01\textra\n"
    )
    (root / "extracts" / "data.tsv").write_text(text, encoding="utf-8")
    [report] = ingest(open_workspace(root))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (2, 1, 1)
    assert query_rows(root, "SELECT row_number, reasons FROM quarantine") == [
        (2, ["too many fields"])
    ]
    assert query_rows(root, "SELECT local_id, surname FROM person_record") == [("A1", "khan")]


def test_bytes_that_are_neither_utf8_nor_cp1252_fall_back_to_latin1(tmp_path: Path) -> None:
    root = _workspace(tmp_path, "s", "csv")
    data = b"ID,Surname,Forename,DOB\nA1,Now\x81ak,Zofia,2009-01-02\n"
    (root / "extracts" / "data.csv").write_bytes(data)
    ingest(open_workspace(root))
    assert query_rows(root, "SELECT surname_raw, surname FROM person_record") == [
        ("Now\x81ak", "nowak")
    ]


def test_xlsx_rows_are_numbered_and_a_row_without_an_id_is_quarantined(tmp_path: Path) -> None:
    root = _workspace(tmp_path, "s", "xlsx")
    frame = pl.DataFrame(
        {"ID": ["A1", None, "A3"], "Surname": ["Khan", "Lee", "Begum"],
         "Forename": ["Aisha", "Sam", "Amina"], "DOB": ["2009-01-02", "2008-02-30", "2010-03-04"]}
    )  # fmt: skip
    frame.write_excel(root / "extracts" / "data.xlsx", worksheet="Referrals")
    [report] = ingest(open_workspace(root))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    assert query_rows(root, "SELECT row_number FROM quarantine") == [(2,)]
    assert query_rows(root, "SELECT local_id FROM person_record ORDER BY 1") == [("A1",), ("A3",)]


def test_a_missing_sheet_names_the_sheets_there_are(tmp_path: Path) -> None:
    root = _workspace(tmp_path, "s", "xlsx", ", sheet: Missing")
    pl.DataFrame({"ID": ["A1"], "Surname": ["Khan"], "Forename": ["A"], "DOB": [""]}).write_excel(
        root / "extracts" / "data.xlsx", worksheet="Referrals"
    )
    with pytest.raises(IngestError, match="no sheet 'Missing'; sheets are Referrals"):
        ingest(open_workspace(root))


def test_parquet_columns_of_any_type_land_as_text(tmp_path: Path) -> None:
    root = _workspace(tmp_path, "s", "parquet")
    pl.DataFrame(
        {"ID": [101, 102], "Surname": ["Khan", "Lee"], "Forename": ["Aisha", "Sam"],
         "DOB": ["2009-01-02", None]}
    ).write_parquet(root / "extracts" / "data.parquet")  # fmt: skip
    [report] = ingest(open_workspace(root))
    assert (report.rows_read, report.rows_loaded) == (2, 2)
    assert query_rows(root, "SELECT local_id FROM person_record ORDER BY 1") == [("101",), ("102",)]


def test_json_lines_with_a_list_of_persons_and_a_broken_line(tmp_path: Path) -> None:
    mapping = JSON_PEOPLE_MAPPING
    make_workspace(tmp_path / "w", {"s": ("data.jsonl", "", mapping)})
    root = tmp_path / "w"
    lines = [
        json.dumps(
            {
                "ref": "R1",
                "people": [{"id": "1", "name": "Ali Khan"}, {"id": "2", "name": "Jo Smith"}],
            }
        ),
        '{"ref": "R2", "people": [',
        json.dumps({"ref": "R3", "people": []}),
    ]
    (root / "extracts" / "data.jsonl").write_text("\n".join(lines) + "\n")
    [report] = ingest(open_workspace(root))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    assert query_rows(root, "SELECT row_number, reasons FROM quarantine") == [
        (2, ["not valid JSON"])
    ]
    assert query_rows(root, "SELECT local_id, forename, surname FROM person_record ORDER BY 1") == [
        ("R1-1", "ali", "khan"), ("R1-2", "jo", "smith"),
    ]  # fmt: skip
    assert query_rows(root, "SELECT count(*) FROM involvement") == [(2,)]


def test_a_clean_copy_drops_blank_lines_but_not_those_inside_a_quoted_value(
    tmp_path: Path,
) -> None:
    from casebridge.ingest.readers import clean_copy

    source = tmp_path / "messy.csv"
    source.write_bytes(b'a,b\r\n1,2\r\n\r\n   \r\n3,"x\r\n\r\ny"\r\n\n5,6')
    with clean_copy(source, "utf-8") as (clean, lines):
        assert clean.read_bytes() == b'a,b\r\n1,2\r\n3,"x\r\n\r\ny"\r\n5,6\n'
        assert lines == 6


def test_a_clean_copy_of_a_file_with_bare_cr_line_ends_has_lf_line_ends(tmp_path: Path) -> None:
    from casebridge.ingest.readers import clean_copy

    source = tmp_path / "classic-mac.csv"
    source.write_bytes(b"a,b\r1,2\r\r3,4\r")
    with clean_copy(source, "utf-8") as (clean, lines):
        assert clean.read_bytes() == b"a,b\n1,2\n3,4\n"
        assert lines == 3
