"""A record whose rows give several birth dates or postcodes hands them all to the linker.

The model compares them with levels of their own, present only where some record has
variants (an extra level that no pair reaches starves Splink's EM). The condition below is
the one those levels use.
"""

from __future__ import annotations

from pathlib import Path

from casebridge.ingest.run import ingest
from casebridge.link.model import variant_agrees
from casebridge.link.prepare import prepare_link_input
from tests.ingest.helpers import make_workspace

MAPPING = """\
source: {key}
format: csv
persons:
  - local_id: id
    surname: surname
    forenames: forename
    date_of_birth: {{column: dob, formats: ["%d/%m/%Y"]}}
    postcode: postcode
"""
# the police hold one man on two rows with two birth dates and two addresses; social care
# holds him once, with the second of each
POLICE = """\
id,surname,forename,dob,postcode
P1,Haddad,Sami,04/05/1988,HX1 2AB
P1,Haddad,Sami,05/04/1988,BD5 9QQ
P2,Haddad,Omar,04/05/1988,HX1 2AB
"""
CARE = """\
id,surname,forename,dob,postcode
C1,Haddad,Sami,05/04/1988,BD5 9QQ
"""


def _same_or_variant(column: str) -> str:
    """Equal values, or the model's condition for a variant that agrees."""
    return f'"{column}_l" = "{column}_r" OR {variant_agrees(column)}'


def test_variants_meet_the_other_records_value(tmp_path: Path) -> None:
    workspace = make_workspace(
        tmp_path / "ws",
        {
            "police": ("police.csv", POLICE, MAPPING.format(key="police")),
            "care": ("care.csv", CARE, MAPPING.format(key="care")),
        },
    )
    ingest(workspace)
    engine = workspace.connect()
    try:
        prepare_link_input(engine)
        # pairs laid out as Splink lays them out, with _l and _r columns
        sides = ", ".join(
            f"{side}.{c} AS {c}_{side}"
            for c in ("unique_id", "dob", "dob_variants", "postcode", "postcode_variants")
            for side in ("l", "r")
        )
        agree = engine.query(
            # NULL falls through a level as false does
            f"""SELECT unique_id_l, unique_id_r, coalesce({_same_or_variant("dob")}, false),
                coalesce({_same_or_variant("postcode")}, false)
            FROM (SELECT {sides} FROM link_input l, link_input r
                  WHERE l.unique_id < r.unique_id) ORDER BY 1, 2"""
        )
        variants = engine.query(
            "SELECT unique_id, dob_variants, postcode_variants FROM link_input ORDER BY 1"
        )
    finally:
        engine.close()
    assert [(u, len(d or []), len(p or [])) for u, d, p in variants] == [
        ("care:C1", 0, 0), ("police:P1", 2, 2), ("police:P2", 0, 0),
    ]  # fmt: skip
    # P1 shows its first date and postcode; the care record agrees with its second ones
    assert agree == [
        ("care:C1", "police:P1", True, True),
        ("care:C1", "police:P2", False, False),
        ("police:P1", "police:P2", True, True),
    ]
