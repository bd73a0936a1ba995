"""Identifiers a person carries (NHS number, UPN, PNC id, passport, a local system's id).

Each identifier a mapping names is read from the staged person rows into the ``identifier``
table, one row per identifier per loaded row, normalised by its scheme. An NHS number or a UPN
whose check character is wrong, or whose shape is not the scheme's, is set aside (``value``
empty, ``value_raw`` kept) with a ``finding``: linking on a mistyped number would join two
people. The checks are SQL (set-based, and in forms that mean the same on Spark) mirrored by the
pure functions below, which the tests hold against the SQL.

Sources:
- NHS number: NHS Data Dictionary, "NHS Number": ten digits, the tenth a modulus 11 check digit
  (weights 10 down to 2 on the first nine; check = 11 - (sum mod 11); 11 gives 0, 10 means the
  number is invalid). Numbers beginning 999 are test numbers, never issued to a patient.
- UPN: UK Government Data Standards Catalogue, "Unique Pupil Number" v2.0 (agreed 18 November
  2004, owner the Department for Education), and DfE, "Unique Pupil Numbers (UPNs): policy and
  practice guidance" (2010), section 3: a check letter then 12 characters; the check letter is
  the sum of each character's value times its position (2 to 13) modulo 23, as a letter of the
  alphabet without I, O and S (0 = A ... 22 = Z); a temporary UPN ends in a letter, valued by the
  same table.
- PNC id: its format is not confirmed from a primary source here, so it is kept as opaque text
  (upper case, spaces removed), never judged.
"""

from __future__ import annotations

import re

from casebridge.ingest.mapping import IdentifierSpec, Mapping
from casebridge.ingest.stage import describe
from casebridge.standard.sql import text

NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 0 = A ... 22 = Z, without I, O and S
UPN_SHAPE = f"^[{UPN_LETTERS}][0-9]{{11}}[0-9{UPN_LETTERS}]$"
TEST_NHS_PREFIX = "999"


# --- the rules in Python: the reference the SQL is tested against -------------------------


def nhs_check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None where the rule gives 10 (no valid number).

    >>> nhs_check_digit("943476591")
    9
    """
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, NHS_WEIGHTS, strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def upn_check_letter(last_twelve: str) -> str:
    """The check letter for a UPN's twelve characters after the letter.

    >>> upn_check_letter("801200005001")
    'B'
    """
    total = sum(
        position * (int(char) if char.isdigit() else UPN_LETTERS.index(char))
        for position, char in enumerate(last_twelve, start=2)
    )
    return UPN_LETTERS[total % 23]


def standardise_identifier(scheme: str, value: str | None) -> tuple[str | None, str | None]:
    """(standard value, problem) for one identifier, as the SQL gives them.

    >>> standardise_identifier("nhs_number", "943 476 5919")
    ('9434765919', None)
    >>> standardise_identifier("nhs_number", "943 476 5918")
    (None, 'bad_check_digit')
    """
    normal = _normalise(scheme, value)
    if value is not None and normal is None:
        return None, "malformed_identifier"
    problem = _problem(scheme, normal) if normal is not None else None
    return (None, problem) if problem else (normal, None)


def _normalise(scheme: str, value: str | None) -> str | None:
    if value is None:
        return None
    if scheme in ("nhs_number", "upn", "passport"):
        normal = re.sub("[ -]", "", value).upper()
    elif scheme == "pnc_id":
        normal = value.replace(" ", "").upper()
    else:
        normal = value.strip(" ")
    return normal or None


def _problem(scheme: str, normal: str) -> str | None:
    if scheme == "nhs_number":
        if not re.fullmatch("[0-9]{10}", normal):
            return "malformed_identifier"
        if nhs_check_digit(normal[:9]) != int(normal[9]):
            return "bad_check_digit"
        return "test_number" if normal.startswith(TEST_NHS_PREFIX) else None
    if scheme == "upn":
        if not re.fullmatch(UPN_SHAPE[1:-1], normal):
            return "malformed_identifier"
        return None if upn_check_letter(normal[1:]) == normal[0] else "bad_check_letter"
    if scheme == "passport" and not re.fullmatch("[A-Z0-9]+", normal):
        return "malformed_identifier"
    return None


# --- the same rules as SQL ------------------------------------------------------------------


def _digit(expr: str, position: int) -> str:
    """The digit at a 1-based position (only read where the shape is checked first)."""
    return f"(ascii(substr({expr}, {position}, 1)) - 48)"


def normalised_sql(scheme: str, value: str) -> str:
    """SQL for an identifier's text normalised by its scheme (NULL when nothing is left)."""
    if scheme in ("nhs_number", "upn", "passport"):
        normal = f"upper(regexp_replace({value}, '[ -]', '', 'g'))"
    elif scheme == "pnc_id":
        normal = f"upper(regexp_replace({value}, ' ', '', 'g'))"
    else:
        normal = f"trim({value})"
    return f"nullif({normal}, '')"


def problem_sql(scheme: str, normal: str) -> str:
    """SQL for what is wrong with a normalised identifier (NULL when nothing is)."""
    if scheme == "nhs_number":
        total = " + ".join(
            f"{_digit(normal, position)} * {weight}"
            for position, weight in enumerate(NHS_WEIGHTS, start=1)
        )
        return f"""CASE WHEN NOT regexp_matches({normal}, '^[0-9]{{10}}$')
                THEN 'malformed_identifier'
            WHEN (11 - ({total}) % 11) % 11 <> {_digit(normal, 10)} THEN 'bad_check_digit'
            WHEN substr({normal}, 1, 3) = {text(TEST_NHS_PREFIX)} THEN 'test_number' END"""
    if scheme == "upn":
        values = [f"{_digit(normal, position)} * {position}" for position in range(2, 13)]
        last = f"substr({normal}, 13, 1)"
        values.append(
            f"(CASE WHEN {last} BETWEEN '0' AND '9' THEN {_digit(normal, 13)} "
            f"ELSE instr({text(UPN_LETTERS)}, {last}) - 1 END) * 13"
        )
        letter = f"substr({text(UPN_LETTERS)}, ({' + '.join(values)}) % 23 + 1, 1)"
        return f"""CASE WHEN NOT regexp_matches({normal}, {text(UPN_SHAPE)})
                THEN 'malformed_identifier'
            WHEN {letter} <> substr({normal}, 1, 1) THEN 'bad_check_letter' END"""
    if scheme == "passport":
        return (
            f"CASE WHEN NOT regexp_matches({normal}, '^[A-Z0-9]+$') THEN 'malformed_identifier' END"
        )
    return "CAST(NULL AS VARCHAR)"


def standardise_sql(scheme: str, value: str) -> tuple[str, str]:
    """SQL (standard value, problem) for one scheme; the mirror of standardise_identifier."""
    normal = normalised_sql(scheme, value)
    problem = (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN {normal} IS NULL "
        f"THEN 'malformed_identifier' ELSE {problem_sql(scheme, normal)} END"
    )
    return f"CASE WHEN ({problem}) IS NULL THEN {normal} END", problem


# --- the identifier table -------------------------------------------------------------------


def _identifier_select(
    source: str, people: str, block: int, number: int, spec: IdentifierSpec
) -> str:
    """The rows of one identifier the mapping names, standardised, with their problem."""
    value, standard_problem = standardise_sql(spec.scheme, f"identifier_{number}_value")
    # the raw value is there (WHERE below): no value means its pattern or map emptied it
    problem = (
        f"CASE WHEN identifier_{number}_value IS NULL THEN 'malformed_identifier' "
        f"ELSE {standard_problem} END"
    )
    return f"""
        SELECT {text(source)} || ':' || local_id AS record_id, {text(source)} AS source,
            local_id, {text(spec.scheme)} AS scheme, {text(spec.label)} AS name,
            {value} AS value, identifier_{number}_raw AS value_raw, file_name, row_number,
            {problem} AS problem, {text(describe(spec))} AS source_field
        FROM {people}
        WHERE block = {block} AND identifier_{number}_raw IS NOT NULL"""


def identifier_sql(mapping: Mapping, source: str, people: str) -> list[str]:
    """SQL statements filling ``identifier`` from the standardised person rows ``people`` and
    recording a finding for each identifier set aside; none where the mapping names none."""
    selects = [
        _identifier_select(source, people, block, number, spec)
        for block, person in enumerate(mapping.persons, start=1)
        for number, spec in enumerate(person.identifiers, start=1)
    ]
    if not selects:
        return []
    return [
        "CREATE OR REPLACE TEMP TABLE cb_identifier AS " + " UNION ALL ".join(selects),
        "INSERT INTO identifier SELECT record_id, source, local_id, scheme, name, value, "
        "value_raw, file_name, row_number FROM cb_identifier",
        "INSERT INTO finding SELECT source, file_name, row_number, local_id, "
        "'identifier:' || scheme, source_field, value_raw, problem "
        "FROM cb_identifier WHERE problem IS NOT NULL",
    ]
