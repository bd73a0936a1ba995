"""A record whose rows give several values of one identifier scheme: the model compares the
value most of its rows give and keeps the others beside it.

Hand-written extract: the NHS numbers pass the NHS Data Dictionary's modulus 11 check (weights
10 down to 2 on the first nine digits; check = 11 - (sum mod 11)); the names are invented.
"""

from __future__ import annotations

from pathlib import Path

from casebridge.ingest.run import ingest
from casebridge.link.prepare import LINK_INPUT, prepare_link_input
from tests.ingest.helpers import make_workspace
from tests.spark import untranspilable

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
    identifiers:
      - {scheme: nhs_number, column: nhs}
"""
# C1: one number once, then another twice (a correction that recurs); C2: two numbers once
# each, the larger first; C3: one number
CARE_ROWS = """\
referral,referred,adult,forename,surname,nhs
R1,10/05/2021,C1,Tavish,Orrinson,401 023 2137
R2,11/06/2021,C1,Tavish,Orrinson,450 557 7104
R3,12/07/2021,C1,Tavish,Orrinson,450 557 7104
R4,10/05/2021,C2,Corra,Vellacott,632 879 7966
R5,11/06/2021,C2,Corra,Vellacott,401 023 2137
R6,10/05/2021,C3,Ines,Marrack,943 476 5919
"""


def test_a_record_compares_the_number_most_of_its_rows_give_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    workspace = make_workspace(tmp_path / "ws", {"care": ("care.csv", CARE_ROWS, CARE)})
    ingest(workspace)
    engine = workspace.connect()
    try:
        engine.statements.clear()
        prepare_link_input(engine)
        rows = engine.query(
            f"SELECT unique_id, nhs_number, nhs_number_variants FROM {LINK_INPUT} ORDER BY 1"
        )
        failures = untranspilable(engine.statements)
    finally:
        engine.close()
    assert rows == [
        # the number two rows give, not the smaller one
        ("care:C1", "4505577104", ["4010232137", "4505577104"]),
        # one row each: the first in file order
        ("care:C2", "6328797966", ["4010232137", "6328797966"]),
        ("care:C3", "9434765919", None),
    ]
    assert failures == []
