"""Finding persons by name, birth date, postcode or identifier, as the linker would.

A name is keyed exactly as ingest keys a record's names (``casebridge/ingest/standardise.py``):
romanised, cleaned, then its phonetic key and its transliteration key, with nicknames and name
variants resolved through the workspace's own code lists (``std_nickname``,
``std_name_variant``). So "Robert Smith" finds a record of "Rupert Smyth" when the keys meet,
as they would for the linker's blocking. Postcodes are compared without spaces or case;
identifiers on their standard or raw form.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from casebridge.standard import sql
from casebridge.standard.transliterate import romanise
from casebridge.web.services import scope
from casebridge.web.services.reads import Row, one
from casebridge.web.snapshot import SnapshotReader

LIMIT = 50
NOT_POSTCODE = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True)
class SearchTerms:
    """What to look for; at least one is given."""

    name: str | None = None
    birth_date: dt.date | None = None
    postcode: str | None = None
    identifier: str | None = None

    def given(self) -> list[str]:
        """The names of the terms given."""
        terms = {
            "name": self.name,
            "birth_date": self.birth_date,
            "postcode": self.postcode,
            "identifier": self.identifier,
        }
        return [name for name, value in terms.items() if value not in (None, "")]


def _name_keys_sql() -> str:
    """A query of the name keys of ``$forenames`` and ``$surname`` (one row)."""
    forename = sql.first_word(sql.clean_name("$forenames"))
    surname = sql.clean_name("$surname")
    return f"""
        SELECT {sql.phonetic_key("g.forename")} AS forename_phonetic,
            {sql.phonetic_key("g.surname")} AS surname_phonetic,
            {sql.skeleton_key("coalesce(vf.canonical, nf.formal, g.forename)")} AS forename_key,
            {sql.skeleton_key("coalesce(vs.canonical, " + sql.squash("g.surname") + ")")}
                AS surname_key
        FROM (SELECT {forename} AS forename, {surname} AS surname) g
        LEFT JOIN std_nickname nf ON nf.nickname = g.forename
        LEFT JOIN std_name_variant vf ON vf.name = coalesce(nf.formal, g.forename)
        LEFT JOIN std_name_variant vs ON vs.name = {sql.squash("g.surname")}"""


def name_keys(reader: SnapshotReader, name: str) -> Row:
    """The phonetic and transliteration keys of a name written forenames first; a name of
    one word is taken as a surname."""
    words = romanise(name).split()
    surname = words[-1] if words else ""
    forenames = " ".join(words[:-1])
    keys = one(reader, _name_keys_sql(), {"forenames": forenames, "surname": surname})
    return keys or {}


def _name_condition(keys: Row) -> tuple[str, dict[str, object]]:
    surname = "(r.surname_translit = $surname_key OR r.surname_phonetic = $surname_phonetic)"
    values: dict[str, object] = {
        "surname_key": keys.get("surname_key"),
        "surname_phonetic": keys.get("surname_phonetic"),
    }
    if keys.get("forename_key") is None and keys.get("forename_phonetic") is None:
        return surname, values
    forename = "(r.forename_translit = $forename_key OR r.forename_phonetic = $forename_phonetic)"
    values |= {
        "forename_key": keys.get("forename_key"),
        "forename_phonetic": keys.get("forename_phonetic"),
    }
    return f"({surname} AND {forename})", values


def _conditions(reader: SnapshotReader, terms: SearchTerms) -> tuple[list[str], dict[str, object]]:
    conditions: list[str] = []
    values: dict[str, object] = {}
    if terms.name:
        condition, named = _name_condition(name_keys(reader, terms.name))
        conditions.append(condition)
        values |= named
    if terms.birth_date is not None:
        conditions.append(
            "(r.date_of_birth = $birth_date OR list_contains(r.dates_of_birth, $birth_date))"
        )
        values["birth_date"] = terms.birth_date
    if terms.postcode:
        conditions.append(
            "(replace(r.postcode, ' ', '') = $postcode OR list_contains("
            "list_transform(r.postcodes, lambda p: replace(p, ' ', '')), $postcode))"
        )
        values["postcode"] = NOT_POSTCODE.sub("", terms.postcode).upper()
    if terms.identifier:
        known = "identifier" in reader.snapshot.tables
        conditions.append(
            "r.record_id IN (SELECT record_id FROM identifier WHERE value = $identifier "
            "OR value_raw = $identifier_raw)"
            if known
            else "false"
        )
        values |= {
            "identifier": re.sub(r"\s+", "", terms.identifier).upper(),
            "identifier_raw": terms.identifier.strip(),
        }
    return conditions, values


def find_persons(
    reader: SnapshotReader, params: dict[str, object], terms: SearchTerms, hide_protected: bool
) -> list[Row]:
    """Visible persons with a record matching every term given (at most LIMIT + 1, so the
    caller can tell the list was cut); protected persons are left out when ``hide_protected``
    (a masked victim must not be found by the details masked)."""
    conditions, values = _conditions(reader, terms)
    protected = f"AND NOT {scope.person_protected('p.person_id')}" if hide_protected else ""
    return reader.dicts(
        f"""SELECT p.person_id, p.records, p.sources, p.forename, p.surname, p.date_of_birth,
            p.postcode, {scope.person_protected("p.person_id")} AS protected
        FROM person p
        WHERE p.person_id IN (
            SELECT l.person_id FROM person_record r
            JOIN person_link l ON l.record_id = r.record_id
            WHERE {" AND ".join(conditions)})
          AND {scope.person_visible("p.person_id")} {protected}
        ORDER BY p.person_id LIMIT {LIMIT + 1}""",
        {**params, **values},
    )
