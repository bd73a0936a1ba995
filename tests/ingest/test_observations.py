"""Repeated ids keep every row's values; rows that disagree are findings; places abroad keep
their postal codes (docs/mapping.md, "Repeated ids" and the location keys)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.workspace import open_workspace
from tests.ingest.helpers import make_workspace, query_rows

DOCS = Path(__file__).parents[2] / "docs"
INVOLVEMENT_MAPPING = """\
source: crimes
format: csv
event:
  local_id: Crime Ref
  kind: {constant: crime}
  offence: HO Code
  detail: Summary
persons:
  - local_id: Suspect ID
    role: {constant: suspect}
    surname: Surname
    forenames: Forename
    date_of_birth: {column: DOB, formats: ["%d/%m/%Y"]}
    sex: Sex
    postcode: Postcode
"""
# one row per suspect per crime; SUS-9 is on three rows that disagree with each other, and
# crime CR-3's two rows give two offence codes
INVOLVEMENT_CSV = """\
Crime Ref,Suspect ID,Surname,Forename,DOB,Sex,Postcode,HO Code,Summary
CR-1,SUS-9,Okafor,Emeka,12/03/1990,M,LS6 2QT,19D,first account
CR-2,SUS-9,Okafor,Emek,21/03/1990,Male,ls62qt,88A,second account
CR-3,SUS-9,Okafor,Emeka,,U,M1 1AE,88A,third account
CR-3,SUS-4,Petrescu,Ionut,01/01/1985,M,,19D,third account
"""


def _ingested(tmp_path: Path, sources: dict[str, tuple[str, str, str]]) -> Path:
    workspace = make_workspace(tmp_path / "ws", sources)
    ingest(workspace)
    return workspace.root


def test_every_row_of_a_repeated_id_is_kept(tmp_path: Path) -> None:
    root = _ingested(tmp_path, {"crimes": ("c.csv", INVOLVEMENT_CSV, INVOLVEMENT_MAPPING)})
    assert query_rows(root, "SELECT count(*) FROM person_record") == [(2,)]
    rows = query_rows(
        root,
        "SELECT row_number, forenames_raw, date_of_birth_raw, sex_raw, postcode_raw, event_id "
        "FROM person_observation WHERE local_id = 'SUS-9' ORDER BY row_number",
    )
    assert rows == [
        (1, "Emeka", "12/03/1990", "M", "LS6 2QT", "crimes:CR-1"),
        (2, "Emek", "21/03/1990", "Male", "ls62qt", "crimes:CR-2"),
        (3, "Emeka", None, "U", "M1 1AE", "crimes:CR-3"),
    ]
    events = query_rows(
        root, "SELECT row_number, offence_raw, detail_raw FROM event_observation ORDER BY 1"
    )
    assert [row[1:] for row in events] == [
        ("19D", "first account"), ("88A", "second account"),
        ("88A", "third account"), ("19D", "third account"),
    ]  # fmt: skip


def test_the_record_shows_first_values_and_holds_every_variant(tmp_path: Path) -> None:
    root = _ingested(tmp_path, {"crimes": ("c.csv", INVOLVEMENT_CSV, INVOLVEMENT_MAPPING)})
    [record] = query_rows(
        root,
        "SELECT forename, date_of_birth, sex, postcode, aliases, dates_of_birth, postcodes "
        "FROM person_record WHERE local_id = 'SUS-9'",
    )
    forename, born, sex, postcode, aliases, dates, postcodes = record
    assert (forename, str(born), sex, postcode) == ("emeka", "1990-03-12", "M", "LS6 2QT")
    assert aliases == ["emek okafor"]
    assert [str(d) for d in dates] == ["1990-03-12", "1990-03-21"]
    assert postcodes == ["LS6 2QT", "M1 1AE"]


def test_rows_that_disagree_with_the_record_are_findings(tmp_path: Path) -> None:
    root = _ingested(tmp_path, {"crimes": ("c.csv", INVOLVEMENT_CSV, INVOLVEMENT_MAPPING)})
    conflicts = query_rows(
        root,
        "SELECT row_number, local_id, field, raw_value FROM finding "
        "WHERE problem = 'conflicting_value' ORDER BY row_number, field",
    )
    # the postcode written 'ls62qt' is the same postcode; 'U' is no sex to disagree with
    assert conflicts == [
        (2, "SUS-9", "date_of_birth", "21/03/1990"),
        (2, "SUS-9", "forename", "Emek"),
        (3, "SUS-9", "postcode", "M1 1AE"),
        (4, "CR-3", "offence_code", "19D"),  # one crime, two offence codes on its rows
    ]
    [report] = ingest(make_workspace(tmp_path / "again", {
        "crimes": ("c.csv", INVOLVEMENT_CSV, INVOLVEMENT_MAPPING)}))  # fmt: skip
    assert report.values_set_aside == 0  # noted, not set aside


def test_the_docs_example_of_a_repeated_id(tmp_path: Path) -> None:
    text = (DOCS / "mapping.md").read_text(encoding="utf-8")
    section = text.split("## Repeated ids", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert match
    mapping = """\
source: docs
format: csv
persons:
  - local_id: Suspect ID
    surname: Surname
    forenames: Forename
    date_of_birth: {column: DOB, formats: ["%d/%m/%Y"]}
"""
    root = _ingested(tmp_path, {"docs": ("d.csv", match.group(1), mapping)})
    assert query_rows(root, "SELECT count(*) FROM person_observation") == [(2,)]
    [(born, dates)] = query_rows(root, "SELECT date_of_birth, dates_of_birth FROM person_record")
    assert str(born) == "1990-03-12" and len(dates) == 2
    assert query_rows(root, "SELECT row_number, field, raw_value, problem FROM finding") == [
        (2, "date_of_birth", "21/03/1990", "conflicting_value")
    ]


ABROAD_MAPPING = """\
source: abroad
format: csv
persons:
  - local_id: id
    surname: surname
    postcode: postcode
    town: suburb
    country: country
"""
# Australian postcodes are four digits; Irish Eircodes have seven characters
ABROAD_CSV = """\
id,surname,postcode,suburb,country
a1,Lindqvist,2615,Kambah,Australia
a2,Byrne,D02 X285,Dublin,IRL
a3,Moss,BD3 7AB,Bradford,United Kingdom
a4,Hale,2615,Kambah,
a5,Ferris,3000,Melbourne,Atlantis
"""


def test_a_postal_code_abroad_is_kept_with_its_country(tmp_path: Path) -> None:
    root = _ingested(tmp_path, {"abroad": ("a.csv", ABROAD_CSV, ABROAD_MAPPING)})
    records = query_rows(
        root,
        "SELECT local_id, postcode, postal_code, town, country FROM person_record ORDER BY 1",
    )
    assert records == [
        ("a1", None, "2615", "Kambah", "AUS"),
        ("a2", None, "D02 X285", "Dublin", "IRL"),
        ("a3", "BD3 7AB", None, "Bradford", "GBR"),
        ("a4", None, "2615", "Kambah", None),
        ("a5", None, "3000", "Melbourne", None),
    ]
    findings = query_rows(root, "SELECT local_id, field, problem FROM finding ORDER BY 1")
    # with no country the value is read as a UK postcode and is none; an unknown country is
    # a finding of its own, and the postal code is still kept
    assert findings == [("a4", "postcode", "malformed_postcode"), ("a5", "country", "unknown_code")]


def test_the_audit_counts_conflicting_values_as_recorded_not_set_aside(tmp_path: Path) -> None:
    from casebridge.audit.quality import conformance

    root = _ingested(tmp_path, {"crimes": ("c.csv", INVOLVEMENT_CSV, INVOLVEMENT_MAPPING)})
    engine = Engine(root / "casebridge.duckdb")
    try:
        table = conformance(engine)
    finally:
        engine.close()
    born = table.filter(pl.col("field") == "date_of_birth").row(0, named=True)
    # two records give a birth date; a row of one disagrees with it, which sets nothing aside
    assert (born["recorded"], born["set_aside"]) == (2, 0)


def test_the_first_file_of_a_glob_comes_first(tmp_path: Path) -> None:
    mapping = """\
source: files
format: csv
persons:
  - local_id: id
    surname: surname
    date_of_birth: {column: dob, formats: ["%d/%m/%Y"]}
"""
    first = "id,surname,dob\nP2,Achterberg,01/01/1970\nP1,Lindgren,02/02/1980\n"
    second = "id,surname,dob\nP1,Lindgreen,03/03/1981\n"
    workspace = make_workspace(tmp_path / "ws", {"files": ("a.csv", first, mapping)})
    (workspace.root / "extracts" / "b.csv").write_text(second, encoding="utf-8")
    settings = workspace.root / "casebridge.toml"
    text = settings.read_text(encoding="utf-8").replace("extracts/a.csv", "extracts/*.csv")
    settings.write_text(text, encoding="utf-8")
    ingest(open_workspace(workspace.root))
    # P1 is row 2 of a.csv and row 1 of b.csv: a.csv comes first, so its values are shown
    [(surname, born, first_row)] = query_rows(
        workspace.root,
        "SELECT surname, date_of_birth, first_row FROM person_record WHERE local_id = 'P1'",
    )
    assert (surname, str(born), first_row) == ("lindgren", "1980-02-02", 2)
    conflicts = query_rows(
        workspace.root,
        "SELECT file_name, field FROM finding WHERE problem = 'conflicting_value' ORDER BY 2",
    )
    assert conflicts == [("b.csv", "date_of_birth"), ("b.csv", "surname")]


def test_unknowns_names_the_list_an_unknown_country_belongs_in(tmp_path: Path) -> None:
    from casebridge.ingest.unknowns import unknown_values

    root = _ingested(tmp_path, {"abroad": ("a.csv", ABROAD_CSV, ABROAD_MAPPING)})
    workspace = open_workspace(root)
    engine = workspace.connect(read_only=True)
    try:
        found = unknown_values(engine, workspace)
    finally:
        engine.close()
    assert found.select("field", "code_list", "add_to", "raw_value").rows() == [
        ("country", "nationality_words", "codes/nationality_words.csv", "Atlantis")
    ]
