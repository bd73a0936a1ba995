"""The model on extracts unlike the generator's: addresses outside the UK, no sex, identifiers,
adults known by an age only, and name keys that join different names.

Hand-written extracts: Australian postcodes are four digits (Australia Post), the NHS numbers
pass the NHS Data Dictionary's modulus 11 check, and the names are invented.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.link.model import blocking_rule_sql, comparisons, with_groups
from casebridge.link.prepare import LINK_INPUT, held_fields, prepare_link_input
from tests.ingest.helpers import make_workspace
from tests.link.helpers import blocked as _blocked
from tests.link.helpers import level as _level

ABROAD = """\
source: abroad
format: csv
persons:
  - local_id: id
    forenames: forename
    surname: surname
    date_of_birth: {column: dob, formats: ["%Y%m%d"]}
    address: address
    town: suburb
    postcode: postcode
    country: {constant: AUS}
"""
# A1 and A2 are one woman whose birth date was replaced wholesale; A3 and A4 are two women
# whose forenames share a skeleton key ('hl') and whose birth dates disagree
ABROAD_ROWS = """\
id,forename,surname,dob,address,suburb,postcode
A1,Marlee,Quennell,19610304,14 Wattle Grove,Kurri Kurri,2327
A2,Marlee,Quennell,19880917,14 Wattle Grve,Kurri Kurri,2327
A3,Hayley,Tremayne,19900304,,,
A4,Holly,Tremayne,19841120,,,
A5,Marlee,Quennell,19610304,,Bendigo,3550
A6,Bill,Ashgrove,19700101,,,
A7,William,Ashgrove,19700101,,,
"""
CARE = """\
source: care
format: csv
event:
  local_id: referral
  kind: {constant: referral}
  date: {column: referred, formats: ["%d/%m/%Y"]}
persons:
  - local_id: adult
    role: {constant: person_of_concern}
    forenames: forename
    surname: surname
    approx_age: age
    identifiers:
      - {scheme: nhs_number, column: nhs}
"""
# an adult named with an age only: 34 on 10 May 2021 means born 11 May 1986 to 10 May 1987
CARE_ROWS = """\
referral,referred,adult,forename,surname,age,nhs
R1,10/05/2021,C1,Tavish,Orrinson,34,943 476 5919
R2,10/05/2021,C2,Tavish,Orrinson,41,
"""
POLICE = """\
source: police
format: csv
persons:
  - local_id: id
    forenames: forename
    surname: surname
    date_of_birth: {column: dob, formats: ["%d/%m/%Y"]}
    identifiers:
      - {scheme: nhs_number, column: nhs}
"""
POLICE_ROWS = """\
id,forename,surname,dob,nhs
P1,Tavish,Orrinson,15/01/1987,
P2,Tavis,Orinson,02/02/1970,9434765919
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    workspace = make_workspace(
        tmp_path_factory.mktemp("general") / "ws",
        {
            "abroad": ("abroad.csv", ABROAD_ROWS, ABROAD),
            "care": ("care.csv", CARE_ROWS, CARE),
            "police": ("police.csv", POLICE_ROWS, POLICE),
        },
    )
    ingest(workspace)
    connected = workspace.connect()
    prepare_link_input(connected)
    return connected


def test_names_at_one_foreign_postal_code_are_compared_whatever_the_birth_years(
    engine: Engine,
) -> None:
    assert _blocked(engine, "abroad:A1", "abroad:A2")
    # without the place, the same names 27 years apart are not compared
    assert not _blocked(engine, "abroad:A2", "abroad:A5")


def test_location_outside_the_uk_is_evidence(engine: Engine) -> None:
    assert _level(engine, "location", "abroad:A1", "abroad:A2") == (
        "a similar address in the same area"
    )
    assert _level(engine, "location", "abroad:A1", "abroad:A5") == "All other comparisons"
    assert _level(engine, "location", "abroad:A3", "abroad:A4") == "no location"


def test_rules_and_comparisons_on_fields_no_record_holds_are_left_out(engine: Engine) -> None:
    held = held_fields(engine)
    assert "sex" not in held and "postcode_district" not in held and "nhs_number" in held
    assert not any('"sex"' in rule for rule in blocking_rule_sql(held))
    assert any('"sex"' in rule for rule in blocking_rule_sql())
    names = {c.get_comparison("duckdb").output_column_name for c in comparisons(with_groups(held))}
    assert "sex" not in names and {"location", "identifiers"} <= names


def test_a_lossy_name_key_is_not_taken_for_a_spelling(engine: Engine) -> None:
    # 'hayley' and 'holly' share the key 'hl': the pair reaches a level of its own, below the
    # key with a known or alike spelling and the close spellings, whose weight EM estimates
    # from the pairs that reach it (not the key's frequency, which would count every name that
    # shares the key as one)
    forename = comparisons()[0].get_comparison("duckdb")
    labels = [level.label_for_charts for level in forename.comparison_levels]
    reached = _level(engine, "forename", "abroad:A3", "abroad:A4")
    assert labels.index(reached) > labels.index("Jaro-Winkler distance of forename >= 0.92")
    assert _level(engine, "date_of_birth", "abroad:A3", "abroad:A4") == "All other comparisons"
    unlike = labels.index("forename_key exact, spelt unlike")
    assert unlike > labels.index("forename_key exact, spelt alike")
    assert reached == "forename_key exact, spelt unlike"
    assert forename.comparison_levels[unlike]._tf_adjustment_input_column_name is None
    # a spelling of one name that shares its key is the strong level, and so is a nickname
    # the name lists resolve to its formal name, however unlike its spelling
    assert _level(engine, "forename", "care:C1", "police:P2") == "forename_key exact, spelt alike"
    assert _level(engine, "forename", "abroad:A6", "abroad:A7") == "forename_key exact, spelt alike"


def test_an_age_at_an_event_is_compared_with_a_birth_date(engine: Engine) -> None:
    # 34 on 10 May 2021 fits a birth on 15 January 1987; 41 does not
    assert _level(engine, "date_of_birth", "care:C1", "police:P1") == "age at an event agrees"
    assert _level(engine, "date_of_birth", "care:C2", "police:P1") != "age at an event agrees"


def test_identifiers_block_and_agree_whatever_the_names(engine: Engine) -> None:
    assert _blocked(engine, "care:C1", "police:P2")
    assert _level(engine, "identifiers", "care:C1", "police:P2") == "an identifier agrees"
    assert _level(engine, "identifiers", "care:C1", "police:P1") == "no scheme on both sides"


def test_fields_held_follow_the_records() -> None:
    engine = Engine()
    try:
        engine.execute(f"CREATE TEMP TABLE {LINK_INPUT} AS SELECT 'a' AS unique_id, NULL AS sex")
        assert held_fields(engine) == frozenset({"unique_id"})
    finally:
        engine.close()


NUMBERED = """\
source: {key}
format: csv
persons:
  - local_id: id
    forenames: forename
    surname: surname
    identifiers:
      - {{scheme: nhs_number, column: nhs}}
"""


def test_another_number_a_record_holds_agrees(tmp_path: Path) -> None:
    # G1's rows give two NHS numbers (both pass the modulus 11 check): the one most rows give is
    # compared first, and the other still meets the number a second source holds
    workspace = make_workspace(
        tmp_path / "ws",
        {
            "gp": ("gp.csv", "id,forename,surname,nhs\nG1,Odile,Sarn,943 476 5919\n"
                   "G1,Odile,Sarn,943 476 5919\nG1,Odile,Sarn,401 023 2137\n",
                   NUMBERED.format(key="gp")),
            "care": ("care.csv", "id,forename,surname,nhs\nC1,Odile,Sarn,401 023 2137\n",
                     NUMBERED.format(key="care")),
        },
    )  # fmt: skip
    ingest(workspace)
    engine = workspace.connect()
    try:
        prepare_link_input(engine)
        assert _level(engine, "identifiers", "gp:G1", "care:C1") == "an identifier agrees"
    finally:
        engine.close()
