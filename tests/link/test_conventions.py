"""Naming conventions the model must not read as two people, and birth dates it must not read
as one: a surname written among one record's middle names, a name a custom gives in place of a
family surname, and two birth years that share a day and month but no slip of the keys.

The conventions are as "A Guide to Names and Naming Practices" (UK, 2006) describes them: a
Somali's name is his own, his father's and his grandfather's, and either of the last two may
stand as surname; a Sikh woman is Kaur, which one record writes as surname and another beside
a family name. The names are invented.
"""

from __future__ import annotations

import pytest

from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.link.prepare import prepare_link_input
from tests.ingest.helpers import make_workspace
from tests.link.helpers import level

MAPPING = """\
source: {key}
format: csv
persons:
  - local_id: id
    forenames: forenames
    surname: surname
    date_of_birth: {{column: dob, formats: ["%d/%m/%Y"]}}
"""
POLICE = """\
id,forenames,surname,dob
P1,Warsame Idiris,Galaal,03/02/1994
P2,Jasleen Kaur,Thandiwal,21/09/1979
P3,Ravneet,Kaur,11/06/1983
P4,Corvin,Ashlade,14/08/1981
P5,Corvin,Ashlade,14/08/1969
P6,Corvin,Ashlade,14/08/1987
"""
CARE = """\
id,forenames,surname,dob
C1,Warsame,Idiris,03/02/1994
C2,Jasleen,Kaur,21/09/1979
C3,Ravneet,Sohanpal,11/06/1983
C4,Corvin,Ashlade,14/08/1982
C5,Corvin,Ashlade,14/08/1978
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    workspace = make_workspace(
        tmp_path_factory.mktemp("conventions") / "ws",
        {
            "police": ("police.csv", POLICE, MAPPING.format(key="police")),
            "care": ("care.csv", CARE, MAPPING.format(key="care")),
        },
    )
    ingest(workspace)
    connected = workspace.connect()
    prepare_link_input(connected)
    return connected


def test_a_surname_among_the_other_records_middle_names_is_evidence(engine: Engine) -> None:
    expected = "surname a middle name of the other record"
    assert level(engine, "surname", "police:P1", "care:C1") == expected
    assert level(engine, "surname", "care:C2", "police:P2") == expected
    # two surnames that are neither is another level
    assert level(engine, "surname", "police:P1", "care:C3") != expected


def test_a_name_given_in_place_of_a_family_surname_is_not_a_disagreement(engine: Engine) -> None:
    expected = "one surname a name given in place of a family surname"
    assert level(engine, "surname", "police:P3", "care:C3") == expected
    # both a family surname, or both the custom's name, is not that level
    assert level(engine, "surname", "police:P1", "care:C3") != expected


def test_a_birth_year_is_wrong_by_a_slip_not_by_any_number_of_years(engine: Engine) -> None:
    slip = "one part of the date wrong"
    assert level(engine, "date_of_birth", "police:P4", "care:C4") == slip  # 1981, 1982
    assert level(engine, "date_of_birth", "police:P6", "care:C4") == slip  # 1987, 1982: a digit
    assert level(engine, "date_of_birth", "police:P5", "care:C4") != slip  # 1969, 1982
    assert level(engine, "date_of_birth", "police:P6", "care:C5") == slip  # 1987, 1978: swapped
    assert level(engine, "date_of_birth", "police:P5", "care:C5") != slip  # 1969, 1978
