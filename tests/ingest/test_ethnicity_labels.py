"""Ethnicity as real extracts write it: the census and DfE label sets, code prefixes, officer
shorthand and stray punctuation, each read to its police self-defined 18+1 code; what cannot be
read is a finding and counts as non-conforming in the audit, never "not stated".

The labels below are copied by hand from the published classifications, not from casebridge's
data files: ONS 2001 Census (England and Wales, 16 categories), ONS 2011 Census (18 categories,
the base of the 18+1 codes), ONS Census 2021 (England and Wales, 19 categories) and the DfE
school census main ethnicity categories. The expected code is the 18+1 category each label
names (DOMAIN.md); Roma has no 18+1 code and is "any other White background" (W9).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casebridge.audit.run import build_tables
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.ingest.unknowns import unknown_values
from tests.ingest.helpers import make_workspace, query_rows

CENSUS_2001 = {
    "White – British": "W1",
    "White – Irish": "W2",
    "White – Any other White background": "W9",
    "Mixed – White and Black Caribbean": "M1",
    "Mixed – White and Black African": "M2",
    "Mixed – White and Asian": "M3",
    "Mixed – Any other Mixed background": "M9",
    "Asian or Asian British – Indian": "A1",
    "Asian or Asian British – Pakistani": "A2",
    "Asian or Asian British – Bangladeshi": "A3",
    "Asian or Asian British – Any other Asian background": "A9",
    "Black or Black British – Caribbean": "B1",
    "Black or Black British – African": "B2",
    "Black or Black British – Any other Black background": "B9",
    "Chinese or other ethnic group – Chinese": "A4",
    "Chinese or other ethnic group – Any other ethnic group": "O9",
}
CENSUS_2011 = {
    "White: English/Welsh/Scottish/Northern Irish/British": "W1",
    "White: Irish": "W2",
    "White: Gypsy or Irish Traveller": "W3",
    "White: Any other White background": "W9",
    "Mixed/multiple ethnic groups: White and Black Caribbean": "M1",
    "Mixed/multiple ethnic groups: White and Black African": "M2",
    "Mixed/multiple ethnic groups: White and Asian": "M3",
    "Mixed/multiple ethnic groups: Any other Mixed/multiple ethnic background": "M9",
    "Asian/Asian British: Indian": "A1",
    "Asian/Asian British: Pakistani": "A2",
    "Asian/Asian British: Bangladeshi": "A3",
    "Asian/Asian British: Chinese": "A4",
    "Asian/Asian British: Any other Asian background": "A9",
    "Black/African/Caribbean/Black British: African": "B2",
    "Black/African/Caribbean/Black British: Caribbean": "B1",
    "Black/African/Caribbean/Black British: Any other Black/African/Caribbean background": "B9",
    "Other ethnic group: Arab": "O2",
    "Other ethnic group: Any other ethnic group": "O9",
}
CENSUS_2021 = {
    "Asian, Asian British or Asian Welsh: Bangladeshi": "A3",
    "Asian, Asian British or Asian Welsh: Chinese": "A4",
    "Asian, Asian British or Asian Welsh: Indian": "A1",
    "Asian, Asian British or Asian Welsh: Pakistani": "A2",
    "Asian, Asian British or Asian Welsh: Any other Asian background": "A9",
    "Black, Black British, Black Welsh, Caribbean or African: African": "B2",
    "Black, Black British, Black Welsh, Caribbean or African: Caribbean": "B1",
    "Black, Black British, Black Welsh, Caribbean or African: Any other Black, Black British, "
    "or Caribbean background": "B9",
    "Mixed or Multiple ethnic groups: White and Asian": "M3",
    "Mixed or Multiple ethnic groups: White and Black African": "M2",
    "Mixed or Multiple ethnic groups: White and Black Caribbean": "M1",
    "Mixed or Multiple ethnic groups: Any other Mixed or Multiple ethnic background": "M9",
    "White: English, Welsh, Scottish, Northern Irish or British": "W1",
    "White: Irish": "W2",
    "White: Gypsy or Irish Traveller": "W3",
    "White: Roma": "W9",
    "White: Any other White background": "W9",
    "Other ethnic group: Arab": "O2",
    "Other ethnic group: Any other ethnic group": "O9",
}
DFE_MAIN = {
    "White - British": "W1",
    "White - Irish": "W2",
    "Traveller of Irish heritage": "W3",
    "Any other White background": "W9",
    "Gypsy / Roma": "W9",
    "White and Black Caribbean": "M1",
    "White and Black African": "M2",
    "White and Asian": "M3",
    "Any other mixed background": "M9",
    "Indian": "A1",
    "Pakistani": "A2",
    "Bangladeshi": "A3",
    "Any other Asian background": "A9",
    "Black Caribbean": "B1",
    "Black - African": "B2",
    "Any other Black background": "B9",
    "Chinese": "A4",
    "Any other ethnic group": "O9",
    "Refused": "NS",
    "Information not yet obtained": "NS",
}
CODE_PREFIXED = {
    "W1 White - British": "W1",
    "(A2) Pakistani": "A2",
    "W1": "W1",
    "b2": "B2",
    "M3: White and Asian": "M3",
    "[O2] Arab": "O2",
    "WBRI - White British": "W1",  # a DfE code written before its label
    "APKN": "A2",
    "O1 Chinese": "A4",  # the old 16+1 code for Chinese is no 18+1 code: the words decide
}
PUNCTUATION = {
    "ASIAN OR ASIAN BRITISH - INDIAN": "A1",
    "asian or asian british—indian": "A1",  # an em dash
    "Asian or Asian British: Indian": "A1",
    "Asian or Asian British (Indian)": "A1",
    "  Mixed  -  White   and Asian ": "M3",
    "White & Black Caribbean": "M1",
    "Black / African / Caribbean / Black British : African": "B2",
    "Other ethnic group - Arab.": "O2",
    "White, Irish": "W2",
}
NOT_STATED = (
    "Not stated",
    "Prefer not to say",
    "Refused",
    "Not known",
    "NS",
    "Declined",
    "Information not yet obtained",
)
UNREADABLE = ("Martian", "Asian or Asian British – Klingon", "White")  # "White": no one code

LABEL_SETS = {
    "census 2001": CENSUS_2001,
    "census 2011": CENSUS_2011,
    "census 2021": CENSUS_2021,
    "DfE main": DFE_MAIN,
    "code-prefixed": CODE_PREFIXED,
    "punctuation": PUNCTUATION,
}
MAPPING = """\
source: s
format: csv
event: {local_id: Ref, kind: {constant: crime}}
persons:
  - local_id: ID
    role: Role
    full_name: {column: Name, order: surname_first}
    ethnicity_self: {column: Ethnicity, codes: text}
    ethnicity_officer: {column: Officer, codes: ic}
    nationality: Nationality
"""


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


# a code whose words name another category: A3 is Bangladeshi
DISAGREEING = ("A3 - Pakistani", "W2 White - British")


def _extract() -> tuple[str, dict[str, str]]:
    """One suspect per ethnicity value, on one crime; and each person's raw value by id."""
    values = [label for labels in LABEL_SETS.values() for label in labels]
    values += [*NOT_STATED, *UNREADABLE, *DISAGREEING]
    lines = ["Ref,ID,Role,Name,Ethnicity,Officer,Nationality"]
    raw = {}
    for number, value in enumerate(values, 1):
        person = f"P{number}"
        raw[person] = value
        lines.append(f"C1,{person},Suspect,Testperson Ann,{_csv_field(value)},,British")
    return "\n".join(lines) + "\n", raw


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    text, raw = _extract()
    root = tmp_path_factory.mktemp("labels") / "w"
    ingest(make_workspace(root, {"s": ("labels.csv", text, MAPPING)}))
    return root, raw


def _read(loaded: tuple[Path, dict[str, str]]) -> dict[str, tuple[str | None, str | None]]:
    """Each raw ethnicity value written in the extract, with its 18+1 code and its finding's
    problem (if any)."""
    root, raw = loaded
    rows = query_rows(
        root,
        "SELECT r.local_id, r.ethnicity_self, f.problem FROM person_record r "
        "LEFT JOIN finding f ON f.local_id = r.local_id AND f.field = 'ethnicity_self'",
    )
    return {raw[str(person)]: (code, problem) for person, code, problem in rows}  # type: ignore[misc]


@pytest.mark.parametrize("label_set", LABEL_SETS)
def test_every_label_of_a_published_set_reads_to_its_code(
    loaded: tuple[Path, dict[str, str]], label_set: str
) -> None:
    read = _read(loaded)
    expected = LABEL_SETS[label_set]
    assert {label: read[label] for label in expected} == {
        label: (code, None) for label, code in expected.items()
    }


def test_a_code_whose_words_name_another_category_is_read_as_neither(
    loaded: tuple[Path, dict[str, str]],
) -> None:
    read = _read(loaded)
    assert {value: read[value] for value in DISAGREEING} == dict.fromkeys(
        DISAGREEING, (None, "code_and_label_disagree")
    )


def test_words_that_say_not_stated_are_not_stated_without_a_finding(
    loaded: tuple[Path, dict[str, str]],
) -> None:
    read = _read(loaded)
    assert {value: read[value] for value in NOT_STATED} == dict.fromkeys(NOT_STATED, ("NS", None))


def test_what_cannot_be_read_is_kept_raw_with_a_finding_not_read_as_not_stated(
    loaded: tuple[Path, dict[str, str]],
) -> None:
    read = _read(loaded)
    assert {value: read[value] for value in UNREADABLE} == dict.fromkeys(
        UNREADABLE, (None, "unmapped_text")
    )
    kept = query_rows(
        loaded[0], "SELECT ethnicity_self_raw FROM person_record WHERE ethnicity_self IS NULL"
    )
    assert sorted(raw for (raw,) in kept) == sorted([*UNREADABLE, *DISAGREEING])


def test_the_audit_counts_an_unread_ethnicity_as_unrecognised_and_non_conforming(
    loaded: tuple[Path, dict[str, str]],
) -> None:
    root, raw = loaded
    engine = Engine(root / "casebridge.duckdb")
    try:
        _, pairs = build_tables(engine, AuditSettings())
    finally:
        engine.close()
    # "White" names the White group, so the person's ethnicity is recorded (as a group only)
    unread = [value for value in UNREADABLE if value != "White"] + list(DISAGREEING)
    written = [code for labels in LABEL_SETS.values() for code in labels.values()]
    stated = sum(code != "NS" for code in written) + 1
    completeness = pairs["completeness"][0]
    suspect = completeness.filter(field="suspect ethnicity", year="all").row(0, named=True)
    assert (suspect["rows"], suspect["filled"], suspect["unrecognised"]) == (
        len(raw),
        stated,
        len(unread),
    )
    conformance = pairs["conformance"][0].filter(field="ethnicity_self").row(0, named=True)
    not_conforming = conformance["recorded"] - conformance["conforming"]
    set_aside = len(UNREADABLE) + len(DISAGREEING)
    assert (not_conforming, conformance["set_aside"]) == (set_aside, set_aside)


NATIONALITY_MAPPING = """\
source: s
format: csv
event: {local_id: Ref, kind: {constant: crime}}
persons:
  - {local_id: ID, role: Role, full_name: {column: Name, order: surname_first},
     nationality: Nationality, ethnicity_officer: {column: Officer, codes: ic}}
"""


def test_an_unmappable_nationality_is_a_finding_and_not_known_is_not(tmp_path: Path) -> None:
    text = (
        "Ref,ID,Role,Name,Nationality,Officer\n"
        "C1,P1,Suspect,Testperson Ann,British,IC3 Black\n"
        "C1,P2,Suspect,Testperson Bea,Narnian,IC1 - White North European\n"
        "C1,P3,Suspect,Testperson Cai,Not known,IC 4\n"
    )
    ingest(make_workspace(tmp_path / "w", {"s": ("n.csv", text, NATIONALITY_MAPPING)}))
    assert query_rows(
        tmp_path / "w",
        "SELECT local_id, nationality, nationality_raw, ethnicity_officer FROM person_record "
        "ORDER BY local_id",
    ) == [
        ("P1", "GBR", "British", "IC3"),
        ("P2", None, "Narnian", "IC1"),
        ("P3", None, "Not known", "IC4"),
    ]
    assert query_rows(
        tmp_path / "w", "SELECT local_id, field, raw_value, problem FROM finding"
    ) == [("P2", "nationality", "Narnian", "unmapped_text")]


def test_the_docs_example_of_free_text_ethnicity_reads_as_the_docs_say(tmp_path: Path) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "mapping.md").read_text(encoding="utf-8")
    table = docs.split("| `Ethnicity` as written |")[1].split("\n\n")[0]
    cells = [
        [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        for line in table.splitlines()[2:]
    ]
    promised = {written: (None if code == "empty" else code, problem or None)
                for written, code, problem in cells}  # fmt: skip
    assert len(promised) >= 5
    lines = ["Ref,ID,Role,Name,Ethnicity"]
    raw = {}
    for number, written in enumerate(promised, 1):
        raw[f"P{number}"] = written
        lines.append(f"C1,P{number},Suspect,Testperson Ann,{_csv_field(written)}")
    mapping = MAPPING.replace("    ethnicity_officer: {column: Officer, codes: ic}\n", "")
    mapping = mapping.replace("    nationality: Nationality\n", "")
    root = tmp_path / "w"
    ingest(make_workspace(root, {"s": ("docs.csv", "\n".join(lines) + "\n", mapping)}))
    assert _read((root, raw)) == promised


def test_a_workspace_phrase_reads_in_any_punctuation_and_unknowns_lists_the_rest(
    tmp_path: Path,
) -> None:
    text = (
        "Ref,ID,Role,Name,Ethnicity\n"
        "C1,P1,Suspect,Testperson Ann,Kashmiri-Pakistani\n"
        "C1,P2,Suspect,Testperson Bea,Martian\n"
        "C1,P3,Suspect,Testperson Cai,White: British\n"
    )
    mapping = MAPPING.replace("    ethnicity_officer: {column: Officer, codes: ic}\n", "")
    mapping = mapping.replace("    nationality: Nationality\n", "")
    workspace = make_workspace(tmp_path / "w", {"s": ("x.csv", text, mapping)})
    (workspace.root / "codes").mkdir()
    # a force's own phrase; and a shipped one given another meaning, in another spelling
    (workspace.root / "codes" / "ethnicity_words.csv").write_text(
        "# from the force's own list\nphrase,code_18plus1\nKashmiri Pakistani,A2\n"
        "White - British,W9\n",
        encoding="utf-8",
    )
    ingest(workspace)
    assert query_rows(
        workspace.root, "SELECT local_id, ethnicity_self FROM person_record ORDER BY local_id"
    ) == [("P1", "A2"), ("P2", None), ("P3", "W9")]
    engine = Engine(workspace.database)
    try:
        unknown = unknown_values(engine, workspace)
    finally:
        engine.close()
    assert unknown.select("field", "add_to", "raw_value").rows() == [
        ("ethnicity_self", "codes/ethnicity_words.csv", "Martian")
    ]
