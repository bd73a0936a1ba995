"""Identifiers: NHS numbers and UPNs checked by their published rules, in SQL and in Python.

The numbers below were worked by hand from the rules, not produced by casebridge:
- NHS Data Dictionary, "NHS Number": weights 10..2 on the first nine digits, check digit
  11 - (sum mod 11), 11 -> 0, 10 -> no valid number; 999... numbers are test numbers.
- UK Government Data Standards Catalogue, "Unique Pupil Number" v2.0 (DfE): check letter =
  sum of value x position (positions 2..13) mod 23, 0 = A ... 22 = Z without I, O, S; a
  temporary UPN ends in a letter valued by the same table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casebridge.ingest.identifiers import (
    nhs_check_digit,
    standardise_identifier,
    standardise_sql,
    upn_check_letter,
)
from casebridge.ingest.run import ingest
from casebridge.standard.tables import PER_SOURCE, TABLES
from tests.ingest.helpers import make_workspace, query_rows

# (text as an extract writes it, standard value, problem), each worked by hand:
NHS_NUMBERS = [
    # the NHS Data Dictionary's own example: 9x10+4x9+3x8+4x7+7x6+6x5+5x4+9x3+1x2 = 299,
    # 299 mod 11 = 2, 11 - 2 = 9
    ("943 476 5919", "9434765919", None),
    ("943-476-5919", "9434765919", None),
    # 4x10+0+1x8+0+2x6+3x5+2x4+1x3+3x2 = 92, 92 mod 11 = 4, 11 - 4 = 7
    ("4010232137", "4010232137", None),
    ("4010232138", None, "bad_check_digit"),
    # 4x10+9x9 = 121 = 11x11: 11 - 0 = 11, which is written 0
    ("490 000 0000", "4900000000", None),
    # 4x10+3x9 = 67, 67 mod 11 = 1, 11 - 1 = 10: no tenth digit makes this valid
    ("4300000000", None, "bad_check_digit"),
    ("4300000001", None, "bad_check_digit"),
    # 9x10+9x9+9x8+1x2 = 245, 245 mod 11 = 3, 11 - 3 = 8: valid, but a test number
    ("999 000 0018", None, "test_number"),
    ("943 476 591", None, "malformed_identifier"),
    ("943 476 591X", None, "malformed_identifier"),
]
UPNS = [
    # 8x2+0x3+1x4+2x5+0+0+0+0+5x10+0x11+0x12+1x13 = 93, 93 mod 23 = 1: B
    ("B801200005001", "B801200005001", None),
    ("b801 2000 05001", "B801200005001", None),
    ("A801200005001", None, "bad_check_letter"),
    # temporary: ...+1x12 + A(0)x13 = 92, 92 mod 23 = 0: A
    ("A80120000501A", "A80120000501A", None),
    ("I80120000501A", None, "malformed_identifier"),  # I is never a check letter
    ("B80120000500", None, "malformed_identifier"),  # 12 characters
]


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def sql_standardise(
    db: duckdb.DuckDBPyConnection, scheme: str, values: list[str | None]
) -> list[tuple[Any, Any]]:
    """(value, problem) the SQL gives for each input, in order."""
    value, problem = standardise_sql(scheme, "x")
    rows = db.execute(
        f"SELECT {value}, {problem} FROM (SELECT unnest(?) AS x, generate_subscripts(?, 1) AS i) "
        "ORDER BY i",
        [values, values],
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


@pytest.mark.parametrize(("scheme", "cases"), [("nhs_number", NHS_NUMBERS), ("upn", UPNS)])
def test_hand_worked_identifiers_are_read_as_the_published_rules_say(
    db: duckdb.DuckDBPyConnection, scheme: str, cases: list[tuple[str, str | None, str | None]]
) -> None:
    expected = [(value, problem) for _, value, problem in cases]
    assert sql_standardise(db, scheme, [raw for raw, _, _ in cases]) == expected
    assert [standardise_identifier(scheme, raw) for raw, _, _ in cases] == expected


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NINE_DIGITS = st.from_regex(r"[0-9]{9}", fullmatch=True)


@SETTINGS
@given(NINE_DIGITS)
def test_nine_digits_and_their_check_digit_validate(nine: str) -> None:
    check = nhs_check_digit(nine)
    if check is None:  # the rule gives 10: no tenth digit makes a valid number
        assert all(
            standardise_identifier("nhs_number", nine + d)[1] == "bad_check_digit"
            for d in "0123456789"
        )
        return
    value, problem = standardise_identifier("nhs_number", nine + str(check))
    assert problem == ("test_number" if nine.startswith("999") else None)


@SETTINGS
@given(NINE_DIGITS, st.integers(0, 9), st.integers(1, 9))
def test_changing_any_one_digit_of_a_valid_nhs_number_fails(
    nine: str, position: int, shift: int
) -> None:
    check = nhs_check_digit(nine)
    if check is None:
        return
    number = nine + str(check)
    changed = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert standardise_identifier("nhs_number", changed) == (None, "bad_check_digit")


@SETTINGS
@given(st.from_regex(r"[0-9]{12}", fullmatch=True), st.integers(0, 11), st.integers(1, 9))
def test_a_upn_with_its_check_letter_validates_and_one_changed_digit_fails(
    twelve: str, position: int, shift: int
) -> None:
    upn = upn_check_letter(twelve) + twelve
    assert standardise_identifier("upn", upn) == (upn, None)
    changed = twelve[:position] + str((int(twelve[position]) + shift) % 10) + twelve[position + 1 :]
    # position weights 2..13 are all non-zero mod 23 (a prime), so one changed digit shows
    assert standardise_identifier("upn", upn[0] + changed) == (None, "bad_check_letter")


IDENTIFIER_TEXT = st.one_of(
    st.none(),
    st.text(alphabet="0123456789 -ABIOSZabz", max_size=16),
    st.builds(lambda nine: nine + str(nhs_check_digit(nine) or 0), NINE_DIGITS),
    st.builds(
        lambda twelve: upn_check_letter(twelve) + twelve,
        st.from_regex(r"[0-9]{12}", fullmatch=True),
    ),
)


@settings(SETTINGS, max_examples=30)
@given(
    st.sampled_from(["nhs_number", "upn", "pnc_id", "passport", "local"]),
    st.lists(IDENTIFIER_TEXT, max_size=20),
)
def test_the_sql_and_the_python_rules_agree(
    db: duckdb.DuckDBPyConnection, scheme: str, values: list[str | None]
) -> None:
    assert sql_standardise(db, scheme, values) == [
        standardise_identifier(scheme, value) for value in values
    ]


MAPPING = """\
source: school
format: csv
persons:
  - local_id: Client ID
    full_name: {column: Name, order: surname_first}
    identifiers:
      - {scheme: nhs_number, column: NHS No}
      - {scheme: upn, column: UPN}
      - {scheme: pnc_id, column: PNC}
      - {scheme: passport, column: Passport}
      - {scheme: local, name: MOSAIC id, column: Client ID}
"""
EXTRACT = """\
Client ID,Name,NHS No,UPN,PNC,Passport
C-1,"OKAFOR, Ada",943 476 5919,B801200005001,12/345678a,p 1234 567
C-2,"WREN, Tobias",401 023 2138,A801200005001,,123-ABC!
C-3,"ELLIS, Nia",,,,
"""


def test_identifiers_load_per_record_and_bad_ones_are_set_aside(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", {"school": ("pupils.csv", EXTRACT, MAPPING)})
    [report] = ingest(workspace)
    assert (report.rows_loaded, report.rows_quarantined, report.values_set_aside) == (3, 0, 3)
    rows = query_rows(
        tmp_path / "ws",
        "SELECT record_id, scheme, name, value, value_raw, row_number FROM identifier "
        "ORDER BY record_id, scheme",
    )
    assert rows == [
        ("school:C-1", "local", "MOSAIC id", "C-1", "C-1", 1),
        ("school:C-1", "nhs_number", "nhs_number", "9434765919", "943 476 5919", 1),
        ("school:C-1", "passport", "passport", "P1234567", "p 1234 567", 1),
        ("school:C-1", "pnc_id", "pnc_id", "12/345678A", "12/345678a", 1),
        ("school:C-1", "upn", "upn", "B801200005001", "B801200005001", 1),
        ("school:C-2", "local", "MOSAIC id", "C-2", "C-2", 2),
        ("school:C-2", "nhs_number", "nhs_number", None, "401 023 2138", 2),
        ("school:C-2", "passport", "passport", None, "123-ABC!", 2),
        ("school:C-2", "upn", "upn", None, "A801200005001", 2),
        ("school:C-3", "local", "MOSAIC id", "C-3", "C-3", 3),
    ]
    findings = query_rows(
        tmp_path / "ws",
        "SELECT row_number, local_id, field, source_field, raw_value, problem FROM finding "
        "ORDER BY field",
    )
    assert findings == [
        (2, "C-2", "identifier:nhs_number", "NHS No", "401 023 2138", "bad_check_digit"),
        (2, "C-2", "identifier:passport", "Passport", "123-ABC!", "malformed_identifier"),
        (2, "C-2", "identifier:upn", "UPN", "A801200005001", "bad_check_letter"),
    ]


def test_the_identifier_table_is_standard_and_replaced_with_its_source() -> None:
    assert "identifier" in TABLES
    assert "identifier" in PER_SOURCE


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("{scheme: local, column: Client ID}", "'local' identifier needs a 'name'"),
        ("{scheme: nino, column: NI}", "scheme"),
        ("{scheme: upn, column: UPN, formats: ['%Y']}", "'formats' does not apply"),
    ],
)
def test_a_wrong_identifier_entry_is_a_mapping_error(
    tmp_path: Path, entry: str, expected: str
) -> None:
    from casebridge.errors import MappingError
    from casebridge.ingest.mapping import load_mapping

    path = tmp_path / "m.yaml"
    path.write_text(
        "source: s\nformat: csv\npersons:\n  - local_id: ID\n    surname: S\n"
        f"    identifiers:\n      - {entry}\n"
    )
    with pytest.raises(MappingError, match=rf"m\.yaml, line 7: .*{expected}"):
        load_mapping(path)
