"""Extracts unlike the generator's: the cases an analyst's own files would raise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from casebridge.errors import IngestError, MappingError
from casebridge.ingest.mapping import load_mapping
from casebridge.ingest.run import ingest
from casebridge.workspace import open_workspace
from tests.ingest.helpers import (
    JSON_PEOPLE_MAPPING,
    SIMPLE_CSV,
    SIMPLE_MAPPING,
    make_workspace,
    query_rows,
)

CRIME_MAPPING = """\
source: s
format: {format}
event:
  local_id: Ref
  kind: {{constant: crime}}
  date: Date
  offence: Code
  section: Section
persons:
  - local_id: ID
    role: Role
    full_name: {{column: Name, order: surname_first}}
    date_of_birth: DOB
"""


def _one_source(tmp_path: Path, text: str, mapping: str, name: str = "data.csv") -> Path:
    make_workspace(tmp_path / "w", {"s": (name, text, mapping)})
    return tmp_path / "w"


def test_a_quote_that_never_closes_stops_the_source_instead_of_losingquery_rows(
    tmp_path: Path,
) -> None:
    text = 'Ref,ID,Role,Name\nC1,1,Victim,"A, Ann\nC2,2,Victim,"B, Bob"\nC3,3,Victim,"C, Cy"\n'
    mapping = "source: s\nformat: csv\nevent: {local_id: Ref, kind: {constant: crime}}\n"
    person = "{local_id: ID, role: Role, full_name: {column: Name, order: surname_first}}"
    mapping += f"persons:\n  - {person}\n"
    root = _one_source(tmp_path, text, mapping)
    with pytest.raises(IngestError, match="never closed"):
        ingest(open_workspace(root))
    assert query_rows(root, "SELECT count(*) FROM person_record") == [(0,)]


def test_codes_sections_names_and_ages_are_read_as_an_analyst_means_them(tmp_path: Path) -> None:
    text = (
        "Ref,ID,Role,Name,DOB,Date,Code,Section\n"
        "C1,1,Victim,Khan Aisha,2001-01-01,2014-01-01,019E,S.5\n"
        'C1,2,Suspect,"JONES, Mark",1980-05-05,2014-01-01,22/B,Section 9(2)\n'
    )
    root = _one_source(tmp_path, text, CRIME_MAPPING.format(format="csv"))
    ingest(open_workspace(root))
    assert query_rows(root, "SELECT offence_code, soa_section FROM event") == [("19E", "s5")]
    assert query_rows(root, "SELECT surname, forename FROM person_record ORDER BY local_id") == [
        ("khan", "aisha"), ("jones", "mark"),
    ]  # fmt: skip
    # on her thirteenth birthday she is 13, not 12
    assert query_rows(root, "SELECT age_at_event FROM involvement WHERE role = 'victim'") == [(13,)]


def test_a_quarantined_csv_row_is_kept_verbatim(tmp_path: Path) -> None:
    text = SIMPLE_CSV.replace("C2,P2,Suspect", "C2,,Suspect")
    root = _one_source(tmp_path, text, SIMPLE_MAPPING.replace("simple", "s"))
    ingest(open_workspace(root))
    assert query_rows(root, "SELECT row_number, raw_row FROM quarantine") == [
        (3, 'C2,,Suspect,"JONES, Mark",03/04/1980,07/08/2022,not a postcode'),
    ]  # fmt: skip


def test_typed_spreadsheet_dates_are_read_not_set_aside(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"Ref": ["C1"], "ID": ["1"], "Role": ["Victim"], "Name": ["KHAN, Aisha"],
         "DOB": [dt.date(2009, 1, 2)], "Date": [dt.datetime(2024, 1, 2, 13, 30)],
         "Code": ["19E"], "Section": ["s5"]}
    )  # fmt: skip
    make_workspace(tmp_path / "w", {"s": ("data.xlsx", "", CRIME_MAPPING.format(format="xlsx"))})
    frame.write_excel(tmp_path / "w" / "extracts" / "data.xlsx")
    ingest(open_workspace(tmp_path / "w"))
    root = tmp_path / "w"
    assert query_rows(root, "SELECT date_of_birth FROM person_record") == [(dt.date(2009, 1, 2),)]
    assert query_rows(root, "SELECT event_date FROM event") == [(dt.date(2024, 1, 2),)]
    assert query_rows(root, "SELECT count(*) FROM finding") == [(0,)]


def test_a_corrected_mapping_reloads_the_source(tmp_path: Path) -> None:
    root = _one_source(tmp_path, SIMPLE_CSV, SIMPLE_MAPPING.replace("simple", "s"))
    ingest(open_workspace(root))
    mapping = root / "mappings" / "s.yaml"
    mapping.write_text(
        mapping.read_text().replace('["%d/%m/%Y"]}\n    postcode', '["%m/%d/%Y"]}\n    postcode')
    )
    [report] = ingest(open_workspace(root))
    assert report.status == "replaced"


def test_each_person_block_keeps_its_own_date_formats(tmp_path: Path) -> None:
    mapping = """\
source: s
format: csv
persons:
  - local_id: A
    surname: AName
    date_of_birth: {column: ADOB, formats: ["%d.%m.%Y"]}
  - local_id: B
    surname: BName
"""
    root = _one_source(tmp_path, "A,AName,ADOB,B,BName\n1,Khan,2009,2,Lee\n", mapping)
    [report] = ingest(open_workspace(root))
    assert report.values_set_aside == 1  # '2009' is not dd.mm.yyyy, whatever block 2 does
    assert query_rows(root, "SELECT field, raw_value FROM finding") == [("date_of_birth", "2009")]


def test_a_json_key_no_row_holds_is_a_mapping_error_and_a_non_list_is_quarantined(
    tmp_path: Path,
) -> None:
    mapping = JSON_PEOPLE_MAPPING
    text = (
        '{"ref": "R1", "people": [{"id": "1", "name": "Ali Khan"}]}\n'
        '{"ref": "R2", "people": {"id": "2", "name": "Jo Li"}}\n'
    )
    root = _one_source(tmp_path, text, mapping, "data.jsonl")
    [report] = ingest(open_workspace(root))
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    (root / "mappings" / "s.yaml").write_text(mapping.replace("local_id: ref", "local_id: Ref"))
    with pytest.raises(IngestError, match="no row has the key 'Ref'"):
        ingest(open_workspace(root))


def test_no_copy_of_an_extract_is_left_in_the_database(tmp_path: Path) -> None:
    root = _one_source(tmp_path, SIMPLE_CSV, SIMPLE_MAPPING.replace("simple", "s"))
    ingest(open_workspace(root))
    tables = {
        name for (name,) in query_rows(root, "SELECT table_name FROM information_schema.tables")
    }
    assert not {name for name in tables if name.startswith("cb_")}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('formats: ["%d/%m/%Y"]}\n    postcode', 'formats: ["%d/%m/%y"]}\n    postcode'), "%y"),
        (
            ("    postcode: Postcode", '    postcode: {column: Postcode, pattern: "^([0-9]+$"}'),
            "not a regular",
        ),
        (("format: csv", 'format: csv\nreader: {delimiter: "||"}'), "delimiter"),
        (
            ("    postcode: Postcode", "    postcode: {column: Postcode, order: surname_first}"),
            "'order' applies only",
        ),
    ],
)
def test_more_mapping_mistakes_are_named_with_file_and_line(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(SIMPLE_MAPPING.replace(*change))
    with pytest.raises(MappingError, match=rf"m\.yaml, line \d+: .*{expected}"):
        load_mapping(path)


def test_yaml_words_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        SIMPLE_MAPPING.replace(
            "postcode: Postcode", 'postcode: {column: Off, map: {01: "1", Y: yes}}'
        )
    )
    spec = load_mapping(path).persons[0].postcode
    assert spec is not None and spec.column == "Off" and spec.map == {"01": "1", "Y": "yes"}
