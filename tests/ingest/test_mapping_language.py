"""The mapping language: list items numbered for ids, pattern and map on ids, duplicate keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from casebridge.errors import MappingError
from casebridge.ingest.mapping import load_mapping
from casebridge.ingest.run import ingest
from tests.ingest.helpers import make_workspace, query_rows
from tests.spark import untranspilable

# A children's services front door: each referral names the child and a list of adults, none
# of whom has an id of his own. Invented names; the shape is the usual nested export.
REFERRALS = "\n".join(
    [
        '{"referral_id": "R-123", "child": {"id": "CH-9", "name": "Maisie Varga"}, '
        '"adults": [{"name": "Dale Ormsby", "age": "41"}, {}, {"name": "Kev Tranter"}]}',
        '{"referral_id": "R-124", "child": {"id": "CH-10", "name": "Ola Brandt"}, "adults": []}',
        '{"referral_id": "R-125", "child": {"id": "CH-11", "name": "Ivo Pell"}}',
        '{"referral_id": "R-126", "child": {"id": "CH-12", "name": "Una Freel"}, '
        '"adults": [{"name": "Dale Ormsby"}]}',
    ]
)
ORDINAL_MAPPING = """\
source: front_door
format: jsonl
event: {local_id: referral_id, kind: {constant: referral}}
persons:
  - local_id: child.id
    role: {constant: subject}
    full_name: {column: child.name, order: forenames_first}
  - each: adults
    local_id: {column: /referral_id, ordinal: "#"}
    role: {constant: person_of_concern}
    full_name: {column: name, order: forenames_first}
    approx_age: age
"""


@pytest.fixture(scope="module")
def front_door(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("front_door") / "ws"
    workspace = make_workspace(root, {"front_door": ("f.jsonl", REFERRALS, ORDINAL_MAPPING)})
    [report] = ingest(workspace)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (4, 4, 0)
    return root


def test_an_adult_without_an_id_is_his_referral_and_his_place_in_the_list(
    front_door: Path,
) -> None:
    adults = query_rows(
        front_door,
        "SELECT p.local_id, p.forename, p.surname, i.event_id, i.age_at_event "
        "FROM person_record p JOIN involvement i ON i.record_id = p.record_id "
        "WHERE i.role = 'person_of_concern' ORDER BY p.local_id",
    )
    # the empty second item is no person, and the third keeps its place: #3, not #2
    assert adults == [
        ("R-123#1", "dale", "ormsby", "front_door:R-123", 41),
        ("R-123#3", "kev", "tranter", "front_door:R-123", None),
        ("R-126#1", "dale", "ormsby", "front_door:R-126", None),
    ]


def test_no_id_is_ever_built_from_a_name(front_door: Path) -> None:
    ids = [row[0] for row in query_rows(front_door, "SELECT record_id FROM person_record")]
    assert len(ids) == 7
    assert not any(word in record_id.lower() for record_id in ids for word in ("dale", "kev"))


def test_ordinal_needs_a_list_and_a_local_id(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    no_list = ORDINAL_MAPPING.replace("  - each: adults\n", "  - role: {constant: x}\n")
    no_list = no_list.replace("    role: {constant: person_of_concern}\n", "")
    path.write_text(no_list)
    with pytest.raises(MappingError, match="'ordinal' numbers the items of a list"):
        load_mapping(path)
    path.write_text(ORDINAL_MAPPING.replace("age\n", '{column: age, ordinal: "#"}\n'))
    with pytest.raises(MappingError, match=r"line 8: .*approx_age: 'ordinal' applies only"):
        load_mapping(path)


# A force's export writes person ids with a prefix and crime numbers with a year; the mapping
# keeps the number, and maps the one legacy id the force told us about to its new form.
PATTERN_MAPPING = """\
source: force
format: csv
event:
  local_id: {column: Crime No, pattern: "^CRN ?([0-9]{2}/[0-9]+)$"}
  kind: {constant: crime}
persons:
  - local_id: {column: Person, pattern: "^ID: *([0-9]+)$", map: {"00042": "00421"}}
    role: Role
    surname: Surname
"""
PATTERN_CSV = """\
Crime No,Person,Role,Surname
CRN 24/1001,ID: 00017,Victim,Hollis
CRN24/1001,ID:00017,Victim,Hollis
CRN 24/1002,ID: 00042,Suspect,Garrow
CRN 24/1003,REF 77,Suspect,Penhale
XX 24/1004,ID: 00018,Witness,Tolley
"""


@pytest.fixture(scope="module")
def force(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("force") / "ws"
    workspace = make_workspace(root, {"force": ("f.csv", PATTERN_CSV, PATTERN_MAPPING)})
    [report] = ingest(workspace)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (5, 3, 2)
    return root


def test_pattern_and_map_make_the_local_id_and_the_record_id(force: Path) -> None:
    records = query_rows(force, "SELECT record_id, local_id, surname FROM person_record ORDER BY 1")
    assert records == [("force:00017", "00017", "hollis"), ("force:00421", "00421", "garrow")]
    events = query_rows(force, "SELECT event_id FROM event ORDER BY 1")
    assert events == [("force:24/1001",), ("force:24/1002",)]
    involvements = query_rows(force, "SELECT event_id, record_id FROM involvement ORDER BY 1")
    assert involvements == [("force:24/1001", "force:00017"), ("force:24/1002", "force:00421")]


def test_an_id_that_does_not_fit_its_pattern_quarantines_its_row_with_the_reason(
    force: Path,
) -> None:
    reasons = query_rows(force, "SELECT row_number, reasons FROM quarantine ORDER BY 1")
    assert reasons == [
        (4, ["the Person value gives no id after its pattern or map"]),
        (5, ["the Crime No value gives no id after its pattern or map"]),
    ]


def test_contains_on_a_local_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(PATTERN_MAPPING.replace('map: {"00042": "00421"}', "contains: ID"))
    with pytest.raises(MappingError, match="line 7: .*local_id: 'contains' gives true or false"):
        load_mapping(path)


@pytest.mark.parametrize(
    ("text", "line", "key", "first"),
    [
        # a field given twice: the second would silently win
        (
            "source: s\nformat: csv\npersons:\n  - local_id: ID\n    surname: Surname\n"
            "    forenames: Forenames\n    surname: Family name\n",
            7,
            "surname",
            5,
        ),
        # inside a flow table
        (
            "source: s\nformat: csv\npersons:\n  - {local_id: ID, surname: A,\n     local_id: B}\n",
            5,
            "local_id",
            4,
        ),
        (
            "source: s\nformat: csv\nsource: t\npersons: [{local_id: ID, surname: S}]\n",
            3,
            "source",
            1,
        ),
    ],
)
def test_a_duplicate_key_names_the_file_and_the_line_of_its_second_use(
    tmp_path: Path, text: str, line: int, key: str, first: int
) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(
        MappingError,
        match=rf"dup\.yaml, line {line}: key '{key}' is given twice \(first on line {first}\)",
    ):
        load_mapping(path)


def test_the_same_key_in_two_blocks_is_no_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "source: s\nformat: csv\npersons:\n  - {local_id: A, surname: S}\n"
        "  - {local_id: B, surname: T}\n"
    )
    assert [block.local_id.column for block in load_mapping(path).persons] == ["A", "B"]


def test_the_new_statements_transpile_to_spark(tmp_path: Path) -> None:
    mapping = ORDINAL_MAPPING.replace(
        "    approx_age: age\n",
        "    approx_age: age\n    identifiers:\n      - {scheme: nhs_number, column: nhs}\n"
        "      - {scheme: upn, column: upn}\n      - {scheme: passport, column: passport}\n",
    )
    workspace = make_workspace(tmp_path / "ws", {"front_door": ("f.jsonl", REFERRALS, mapping)})
    engine = workspace.connect()
    try:
        from casebridge.ingest.run import ingest_source

        ingest_source(engine, workspace, workspace.source("front_door"))
    finally:
        engine.close()
    statements = [s for s in engine.statements if "generate_series" in s or "identifier" in s]
    assert len(statements) >= 4
    assert untranspilable(statements) == []


UNMATCHED_MAPPING = """\
source: pat
format: csv
event:
  local_id: ref
  kind: {constant: crime}
  offence: {column: offence, pattern: "^HO([0-9]+[A-Z]?)$"}
persons:
  - local_id: id
    role: {constant: suspect}
    surname: surname
    postcode: {column: address, pattern: "([A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2})$"}
"""
UNMATCHED_CSV = """\
ref,offence,id,surname,address
E1,HO19D,P1,Kowal,"4 Mill Lane, BD3 7AB"
E2,19D,P2,Sesay,4 Mill Lane
"""


def test_a_value_its_pattern_finds_nothing_in_is_a_finding(tmp_path: Path) -> None:
    workspace = make_workspace(
        tmp_path / "ws", {"pat": ("p.csv", UNMATCHED_CSV, UNMATCHED_MAPPING)}
    )
    [report] = ingest(workspace)
    findings = query_rows(
        workspace.root,
        "SELECT row_number, field, source_field, raw_value, problem FROM finding ORDER BY 1, 2",
    )
    assert findings == [
        (2, "offence", "offence", "19D", "pattern_not_matched"),
        (2, "postcode", "address", "4 Mill Lane", "pattern_not_matched"),
    ]
    assert report.values_set_aside == 2
    assert query_rows(workspace.root, "SELECT postcode FROM person_record ORDER BY 1") == [
        ("BD3 7AB",), (None,),
    ]  # fmt: skip


def test_an_identifier_read_by_position_allows_a_repeated_header(tmp_path: Path) -> None:
    mapping = """\
source: ids
format: csv
persons:
  - local_id: {column: {position: 1}}
    surname: {column: {position: 2}}
    identifiers:
      - {scheme: local, name: MOSAIC id, column: {position: 3}}
"""
    # two columns called 'ID': the first the record's, the second the care system's
    text = "ID,Surname,ID\nR1,Adeyemi,M-553\n"
    workspace = make_workspace(tmp_path / "ws", {"ids": ("i.csv", text, mapping)})
    ingest(workspace)
    assert query_rows(workspace.root, "SELECT local_id, value FROM identifier") == [("R1", "M-553")]
