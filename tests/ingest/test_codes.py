"""Code lists a workspace extends (``W/codes/*.csv``), values no list knows as findings, and
``casebridge unknowns``. Extracts and codes are written here by hand from published standards:
ISO/IEC 5218 and the NHS Data Dictionary for sex codes, the ONS Census 2021 and GOV.UK Design
System for sex words, Home Office offence and outcome codes, Ofcom's drama number range."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casebridge.cli import app
from casebridge.errors import WorkspaceError
from casebridge.ingest.run import ingest
from casebridge.standard.codelists import CODE_LISTS
from casebridge.workspace import Workspace, open_workspace
from tests.ingest.helpers import make_workspace, query_rows

MAPPING = """\
source: force_x
format: csv
event:
  local_id: Ref
  kind: {constant: crime}
  offence: Offence
  section: Section
  outcome: Outcome
  penetrative: Pen
  cse_flag: CSE
persons:
  - local_id: PersonID
    role: Role
    surname: Surname
    sex: Sex
    phone: Phone
"""
# NHS Data Dictionary PERSON STATED GENDER CODE 1, 2, 9, X; PERSON GENDER CODE CURRENT 0;
# ONS Census 2021 'Female', 'Male'; GOV.UK Design System 'Prefer not to say'. 'Aisha' is a
# forename typed into a sex column.
EXTRACT = """\
Ref,PersonID,Role,Surname,Sex,Phone,Offence,Section,Outcome,Pen,CSE
E1,P1,Victim,Okafor,2,07700 900123,195,,Charge authorised,,Y
E1,P2,Suspect,Ferris,1,+33 6 12 34 56 78,195,,Charge authorised,N,N
E2,P3,Child,Nowak,9,,56/1,Rape,OC99,maybe,perhaps
E2,P4,Suspect,Quill,X,,56/1,s9(2),OC99,,
E3,P5,Witness,Adeyemi,0,,8L,,02,,
E4,P6,Victim,Larkin,Female,,8L,,,,
E4,P7,Suspect,Moss,Male,,8L,,,,
E4,P8,Victim,Brandt,Prefer not to say,,8L,,,,
E4,P9,Suspect,Eadie,Aisha,,8L,,,,
"""
OFFENCES = """\
# our force's local codes and one Home Office code the shipped list lacks
ho_code,description,soa_section,is_penetrative,victim_age_band,victim_sex,is_sexual,verified
195,Home Office code 195 as our force's list describes it,,false,any,any,false,no
56/1,Local code 56/1: exploitation concern,,either,under18,any,true,no
"""
OUTCOMES = """\
code,label,category,victim_does_not_support,verified
OC99,Local: referred to the multi-agency panel,other_body,false,no
"""
OUTCOME_WORDS = "word,code\ncharge authorised,1\n"
ROLES = """\
word,role
# a child in this extract is the subject of a referral, not always a victim
child,subject
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws", {"force_x": ("crimes.csv", EXTRACT, MAPPING)})


def _write_codes(root: Path, files: dict[str, str]) -> None:
    (root / "codes").mkdir(exist_ok=True)
    for name, text in files.items():
        (root / "codes" / name).write_text(text, encoding="utf-8")


def _findings(root: Path) -> set[tuple[object, ...]]:
    return set(query_rows(root, "SELECT local_id, field, raw_value, problem FROM finding"))


def test_sex_codes_and_words_from_published_standards_map(workspace: Workspace) -> None:
    ingest(workspace)
    sexes = dict(query_rows(workspace.root, "SELECT local_id, sex FROM person_record"))
    assert sexes == {
        "P1": "F", "P2": "M", "P3": "U", "P4": "U", "P5": "U",
        "P6": "F", "P7": "M", "P8": "U", "P9": None,
    }  # fmt: skip
    [(raw,)] = query_rows(workspace.root, "SELECT sex_raw FROM person_record WHERE local_id='P9'")
    assert raw == "Aisha"


def test_every_value_set_aside_is_a_finding(workspace: Workspace) -> None:
    ingest(workspace)
    found = _findings(workspace.root)
    assert ("P9", "sex", "Aisha", "unknown_code") in found
    assert ("P2", "phone", "+33 6 12 34 56 78", "not_a_uk_phone") in found
    assert ("E2", "soa_section", "Rape", "unrecognised_section") in found
    assert ("E2", "is_penetrative", "maybe", "not_yes_or_no") in found
    assert ("E2", "cse_flag", "perhaps", "not_yes_or_no") in found
    assert ("E1", "offence", "195", "unknown_code") in found
    assert ("E2", "outcome", "OC99", "unknown_code") in found
    # a UK number, a section that reads, yes/no words and NHS code 9 are not findings
    assert not {f for f in found if f[0] in ("P1", "P3", "P4") or f[2] in ("Y", "N", "s9(2)")}
    phones = dict(query_rows(workspace.root, "SELECT local_id, phone FROM person_record"))
    assert phones["P1"] == "07700900123" and phones["P2"] is None


def test_workspace_codes_make_unknown_values_known(workspace: Workspace) -> None:
    [first] = ingest(workspace)
    assert first.status == "loaded"
    _write_codes(
        workspace.root,
        {
            "offences.csv": OFFENCES,
            "outcome_codes.csv": OUTCOMES,
            "outcome_words.csv": OUTCOME_WORDS,
            "roles.csv": ROLES,
        },
    )
    [second] = ingest(open_workspace(workspace.root))
    assert second.status == "replaced"  # a new code file reloads the source
    found = _findings(workspace.root)
    assert not {f for f in found if f[1] in ("offence", "outcome")}
    events = {
        row[0]: row[1:]
        for row in query_rows(
            workspace.root,
            "SELECT local_id, offence_code, offence_description, outcome_code, outcome_category "
            "FROM event",
        )
    }
    assert events["E1"][0] == "195" and events["E1"][2] == "1"
    assert events["E2"] == ("561", "Local code 56/1: exploitation concern", "OC99", "other_body")
    assert events["E3"][2] == "2"  # a shipped outcome code still reads
    roles = dict(query_rows(workspace.root, "SELECT local_id, role FROM involvement i "
                            "JOIN person_record p ON p.record_id = i.record_id"))  # fmt: skip
    assert roles["P3"] == "subject"  # the workspace's entry overrides the shipped 'child'
    assert roles["P1"] == "victim"
    [third] = ingest(open_workspace(workspace.root))
    assert third.status == "unchanged"


BAD_PENETRATIVE = OFFENCES.replace(",false,any,any", ",sometimes,any,any")
UNREADABLE_CODE = OFFENCES + "//,slashes only,,false,any,any,false,no\n"
BAD_FILES = [
    ("offences.csv", "code,description\n195,x\n", "offences.csv line 1: the header must be"),
    ("roles.csv", "# ours\nword,role\nchild,subject\nchild,kid\n", "roles.csv line 4: role must"),
    ("sex_words.csv", "word,sex\n\nwoman,F,extra\n", "sex_words.csv line 3: 3 fields"),
    ("roles.csv", "word,role\nChild,subject\n child ,victim\n", "line 3: the same word as line 2"),
    ("outcome_words.csv", "word,code\nnfa,99\n", "outcome_words.csv line 2: code must be"),
    ("offence.csv", "ho_code\n", "offence.csv: not a code list casebridge knows"),
    ("offences.csv", BAD_PENETRATIVE, "offences.csv line 3: is_penetrative must be one of"),
    ("offences.csv", UNREADABLE_CODE, "offences.csv line 5: the ho_code cannot be read"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_FILES)
def test_a_malformed_codes_file_names_its_file_and_line(
    workspace: Workspace, name: str, text: str, message: str
) -> None:
    _write_codes(workspace.root, {name: text})
    with pytest.raises(WorkspaceError, match=message.replace("(", r"\(")) as raised:
        ingest(workspace)
    assert str(workspace.root / "codes") in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_bad_codes_file_leaves_the_loaded_lists_as_they_were(workspace: Workspace) -> None:
    _write_codes(workspace.root, {"roles.csv": ROLES})
    ingest(workspace)
    _write_codes(workspace.root, {"roles.csv": ROLES + "other,nobody\n"})
    with pytest.raises(WorkspaceError):
        ingest(workspace)
    rows = query_rows(workspace.root, "SELECT role FROM std_role_word WHERE word = 'child'")
    assert rows == [("subject",)]


def test_unknowns_lists_each_unknown_value_with_its_count_as_csv_and_json(
    workspace: Workspace,
) -> None:
    ingest(workspace)
    runner = CliRunner()
    as_csv = runner.invoke(app, ["unknowns", "-w", str(workspace.root), "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    lines = as_csv.stdout.splitlines()
    assert lines[0] == "field,code_list,add_to,raw_value,count,sources"
    assert lines[1:] == [  # the most frequent first
        "offence,offences,codes/offences.csv,195,2,force_x",
        "offence,offences,codes/offences.csv,56/1,2,force_x",
        "outcome,outcome_words,codes/outcome_words.csv,Charge authorised,2,force_x",
        "outcome,outcome_codes,codes/outcome_codes.csv,OC99,2,force_x",
        "sex,sex_words,codes/sex_words.csv,Aisha,1,force_x",
    ]
    assert "outcome,outcome_codes,codes/outcome_codes.csv,OC99,2,force_x" in lines
    assert "sex,sex_words,codes/sex_words.csv,Aisha,1,force_x" in lines
    as_json = runner.invoke(app, ["unknowns", "-w", str(workspace.root), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert rows[0] == {
        "field": "offence", "code_list": "offences", "add_to": "codes/offences.csv",
        "raw_value": "195", "count": 2, "sources": "force_x",
    }  # fmt: skip
    assert [row["count"] for row in rows] == [2, 2, 2, 2, 1]
    as_table = runner.invoke(app, ["unknowns", "-w", str(workspace.root)])
    assert as_table.exit_code == 0 and "Aisha" in as_table.stdout
    wrong = runner.invoke(app, ["unknowns", "-w", str(workspace.root), "--format", "xml"])
    assert wrong.exit_code == 2


def test_the_worked_example_in_the_docs_makes_its_values_known(workspace: Workspace) -> None:
    text = (Path(__file__).parents[2] / "docs" / "codes.md").read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- codes-file: (\S+) -->\n```csv\n(.*?)```", text, re.DOTALL)
    assert [name for name, _ in blocks] == ["offences.csv", "outcome_words.csv", "roles.csv"]
    _write_codes(workspace.root, dict(blocks))
    ingest(workspace)
    assert not {f for f in _findings(workspace.root) if f[1] in ("offence", "role")}
    codes = query_rows(
        workspace.root, "SELECT DISTINCT outcome_code FROM event WHERE local_id='E1'"
    )
    assert codes == [("1",)]
    for code_list in CODE_LISTS:
        assert f"`{code_list.file_name}`" in text, code_list.file_name
