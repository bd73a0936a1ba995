"""The table Splink compares: one row per person record, with the keys the model uses
(the name keys are ingest's transliteration keys: variants and nicknames resolved).

Built in portable SQL from ``person_record`` (and, for people whose birth date no one recorded,
an approximate birth year from their age at an event). Aliases are compared on a key of the
whole name as written, tolerant of spelling (``name_key``, and ``alias_keys`` for the record's
aliases; NULL when it has none); addresses on a key of their letters and digits
(``address_key``). A record whose rows give several birth dates or postcodes carries them all
(``dob_variants``, ``postcode_variants``; NULL for the usual one), compared by levels of their
own. A postal code in any country (``postal_code``: a UK postcode's unit, or another country's
code without spaces or punctuation), the town, national identifiers (one column per scheme of
IDENTIFIER_SCHEMES: the value most of a record's rows give; ``{scheme}_variants`` holds them
all where they give several), and for a record known by an age at an event only, the range of
birth dates that age gives (``born_after``, ``born_before``) are compared too, and so are the
middle names as words (``middle_tokens``: a surname one record gives may be a middle name of
another) and whether the surname is a name a custom gives in place of a family surname
(``surname_title``: Singh, Kaur, Begum …; NULL otherwise). ``dedupe`` is the setting of the
record's source (false: the source holds each person once), which the blocking rules read.
``record_number`` numbers the records in the order of their ids: blocked pairs are pairs of
numbers (``link/blocking.py``), joined and scored on integers.

Many systems write 1 January when only the year of birth is known. Where a source holds far
more birth dates on 1 January than the calendar gives (more than PLACEHOLDER_EXCESS times one
day's share, and at least PLACEHOLDER_MINIMUM of them), its 1 January dates are compared as a
year only: otherwise a placeholder would read as a wrong day and month, and keep the person
apart from their other records.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from casebridge.engine import Engine
from casebridge.link.frequencies import MIDDLE_WITH_FORENAME, SURNAME_WITH_FORENAME, key_sql
from casebridge.standard.datafiles import read_standard
from casebridge.standard.sql import address_key, first_word, skeleton_key, squash, surname_of

LINK_INPUT = "link_input"
FORENAME_KEYS = "cb_forename_keys"
SURNAME_KEYS = "cb_surname_keys"
ADDRESS_KEYS = "cb_address_keys"
PLACEHOLDER_EXCESS = 4
PLACEHOLDER_MINIMUM = 10  # fewer is no pattern
# identifiers issued to one person nationally, compared exactly (a local system's id is not:
# two systems may number their clients alike)
IDENTIFIER_SCHEMES = ("nhs_number", "upn", "pnc_id", "passport")


def _written_key(forename: str, surname: str) -> str:
    """A whole name as written, made tolerant of spelling (no nickname or variant resolved):
    the key an alias is compared on, since an alias is often a misspelling of the name."""
    return f"{skeleton_key(forename)} || ' ' || {skeleton_key(surname)}"


def _resolved_names(engine: Engine) -> dict[str, tuple[str, str]]:
    """The forename and surname (of ``p``) as the name lists resolve them (a known nickname to
    its formal name, a known spelling to its group's), as ingest does before it takes a key;
    the name as it is where no list holds it (or the workspace has no lists yet): for each, the
    expression and the joins it needs. Two names that resolve alike are known variants of one
    name; two that merely share a key may be two names."""
    if not (engine.table_exists("std_nickname") and engine.table_exists("std_name_variant")):
        return {"forename": ("p.forename", ""), "surname": (squash("p.surname"), "")}
    return {
        "forename": (
            "coalesce(vf.canonical, nf.formal, p.forename)",
            """LEFT JOIN std_nickname nf ON nf.nickname = p.forename
            LEFT JOIN std_name_variant vf ON vf.name = coalesce(nf.formal, p.forename)""",
        ),
        "surname": (
            f"coalesce(vs.canonical, {squash('p.surname')})",
            f"LEFT JOIN std_name_variant vs ON vs.name = {squash('p.surname')}",
        ),
    }


def surname_titles() -> tuple[str, ...]:
    """Names a naming custom gives in place of a family surname (Singh, Kaur, Begum …:
    ``standard/data/surname_titles.csv``), lower case as names are standardised."""
    names = tuple(row["name"] for row in read_standard("surname_titles", ("name", "custom")))
    if not all(re.fullmatch("[a-z]+", name) for name in names):
        raise AssertionError("surname_titles.csv holds a name that is not lower-case letters")
    return names


def _identifiers_sql() -> str:
    """One row per record with identifiers: for each scheme of IDENTIFIER_SCHEMES, the value
    most of the record's rows give (a tie: the one its rows give first, in file order), and
    every value, sorted, where its rows give several (``{scheme}_variants``, NULL otherwise).

    Why one value and not a list: the scheme's column is compared for equality and blocked on
    with ``block_on(scheme)``, a join on equal values; a list would need every record unnested
    into one row per value before the join. The value most rows give is the one the record's
    system holds most often (a number mistyped once and corrected later is outvoted as soon as
    the correction recurs), and the variants keep the others beside it, as ``dob_variants``
    keeps a record's other birth dates, so that no value is lost."""
    schemes = ", ".join(f"'{scheme}'" for scheme in IDENTIFIER_SCHEMES)
    chosen = ", ".join(
        f"max(CASE WHEN scheme = '{scheme}' AND choice = 1 THEN value END) AS {scheme}"
        for scheme in IDENTIFIER_SCHEMES
    )
    variants = ", ".join(
        f"CASE WHEN max(CASE WHEN scheme = '{scheme}' THEN held END) > 1 THEN "
        f"list_sort(list(value) FILTER (WHERE scheme = '{scheme}')) END AS {scheme}_variants"
        for scheme in IDENTIFIER_SCHEMES
    )
    tallied = f"""SELECT record_id, scheme, value, count(*) AS rows_giving,
            min(seen) AS first_seen
        FROM (SELECT record_id, scheme, value, row_number() OVER (
                PARTITION BY record_id, scheme ORDER BY file_name, row_number, value) AS seen
            FROM identifier WHERE value IS NOT NULL AND scheme IN ({schemes}))
        GROUP BY record_id, scheme, value"""
    ranked = f"""SELECT record_id, scheme, value,
            row_number() OVER (PARTITION BY record_id, scheme
                ORDER BY rows_giving DESC, first_seen) AS choice,
            count(*) OVER (PARTITION BY record_id, scheme) AS held
        FROM ({tallied})"""
    return f"SELECT record_id, {chosen}, {variants} FROM ({ranked}) GROUP BY record_id"


def prepare_link_input(engine: Engine, duplicate_free: Collection[str] = ()) -> int:
    """Create ``link_input`` (a temporary table of the connection) from the standard tables;
    return its row count. ``dedupe`` is false for the records of a source in
    ``duplicate_free`` (declared free of duplicates: no pair of its own records is compared)."""
    # an age at an event says the person was born in the year before that age was reached:
    # after the event's date less age + 1 years, and on or before the date less age years
    approx_year = """
        SELECT i.record_id, min(year(e.event_date) - i.age_at_event) AS approx_birth_year,
            max(CAST(e.event_date - (i.age_at_event + 1) * INTERVAL 1 YEAR + INTERVAL 1 DAY
                AS DATE)) AS born_after,
            min(CAST(e.event_date - i.age_at_event * INTERVAL 1 YEAR AS DATE)) AS born_before
        FROM involvement i JOIN event e ON e.event_id = i.event_id
        WHERE i.age_at_event IS NOT NULL AND e.event_date IS NOT NULL
        GROUP BY i.record_id"""
    january_first = "(month(date_of_birth) = 1 AND day(date_of_birth) = 1)"
    placeholder = f"""
        SELECT source FROM person_record WHERE dob_precision = 'day' GROUP BY source
        HAVING sum(CASE WHEN {january_first} THEN 1 ELSE 0 END)
            > {PLACEHOLDER_EXCESS} * count(*) / 365.25
          AND sum(CASE WHEN {january_first} THEN 1 ELSE 0 END) >= {PLACEHOLDER_MINIMUM}"""
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_dob AS
        SELECT record_id, row_number() OVER (ORDER BY record_id) AS record_number,
            date_of_birth, CASE
                WHEN dob_precision = 'day' AND {january_first}
                    AND source IN ({placeholder}) THEN 'year'
                ELSE dob_precision END AS dob_precision
        FROM person_record"""
    )
    _name_keys(engine)
    # a copy of every name and birth date is working data: it lives as long as the connection
    # (earlier versions kept it as a table in the workspace)
    engine.execute(f"DROP TABLE IF EXISTS main.{LINK_INPUT}")
    engine.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {LINK_INPUT} AS
        SELECT p.record_id AS unique_id, d.record_number, p.source,
            NOT list_contains(CAST(? AS VARCHAR[]), p.source) AS dedupe,
            p.forename, p.surname, p.middle_names,
            p.forename_translit AS forename_key, p.surname_translit AS surname_key,
            fm.forename_resolved, sm.surname_resolved,
            p.forename_phonetic, p.surname_phonetic,
            string_split(p.surname, ' ') AS surname_tokens,
            string_split(p.middle_names, ' ') AS middle_tokens,
            {key_sql("p.forename", "p.middle_names")} AS {MIDDLE_WITH_FORENAME},
            {key_sql("p.forename", "p.surname")} AS {SURNAME_WITH_FORENAME},
            CASE WHEN p.surname IN ({", ".join(f"'{name}'" for name in surname_titles())})
                THEN true END AS surname_title,
            fm.forename_skeleton || ' ' || sm.surname_skeleton AS name_key,
            CASE WHEN array_length(p.aliases) > 0 THEN list_transform(p.aliases,
                lambda a: {_written_key(first_word("a"), surname_of("a", "forenames_first"))})
                END AS alias_keys,
            CASE WHEN d.dob_precision = 'day' THEN d.date_of_birth END AS dob,
            CASE WHEN array_length(p.dates_of_birth) > 1 THEN list_filter(p.dates_of_birth,
                lambda b: NOT (month(b) = 1 AND day(b) = 1)) END AS dob_variants,
            CASE WHEN array_length(p.postcodes) > 1 THEN p.postcodes END AS postcode_variants,
            CASE WHEN d.dob_precision IS NOT NULL THEN year(d.date_of_birth) END AS dob_year,
            CASE WHEN d.dob_precision = 'day' THEN month(d.date_of_birth) END AS dob_month,
            CASE WHEN d.dob_precision = 'day' THEN day(d.date_of_birth) END AS dob_day,
            coalesce(CASE WHEN d.dob_precision IS NOT NULL THEN year(d.date_of_birth) END,
                     a.approx_birth_year) AS birth_year,
            CASE WHEN p.sex IN ('M', 'F') THEN p.sex END AS sex,
            CASE WHEN p.postcode_precision = 'unit' THEN p.postcode END AS postcode,
            CASE WHEN p.postcode_precision = 'unit' THEN left(p.postcode, length(p.postcode) - 2)
                WHEN p.postcode_precision = 'sector' THEN p.postcode END AS postcode_sector,
            regexp_extract(p.postcode, '^([A-Z0-9]+)', 1) AS postcode_district,
            CASE WHEN p.postcode_precision = 'unit' THEN p.postcode
                ELSE regexp_replace(p.postal_code, '[^A-Z0-9]+', '', 'g') END AS postal_code,
            {address_key("p.town")} AS town,
            am.address_key,
            CASE WHEN d.dob_precision IS NULL AND a.born_after <= a.born_before
                THEN a.born_after END AS born_after,
            CASE WHEN d.dob_precision IS NULL AND a.born_after <= a.born_before
                THEN a.born_before END AS born_before,
            {", ".join(f"x.{scheme}, x.{scheme}_variants" for scheme in IDENTIFIER_SCHEMES)},
            p.phone, p.email
        FROM person_record p
        JOIN cb_dob d ON d.record_id = p.record_id
        LEFT JOIN ({approx_year}) a ON a.record_id = p.record_id
        LEFT JOIN ({_identifiers_sql()}) x ON x.record_id = p.record_id
        LEFT JOIN {FORENAME_KEYS} fm ON fm.forename = p.forename
        LEFT JOIN {SURNAME_KEYS} sm ON sm.surname = p.surname
        LEFT JOIN {ADDRESS_KEYS} am ON am.address = p.address
        """,
        [sorted(duplicate_free)],
    )
    for table in (FORENAME_KEYS, SURNAME_KEYS, ADDRESS_KEYS):
        engine.execute(f"DROP TABLE {table}")
    return int(engine.scalar(f"SELECT count(*) FROM {LINK_INPUT}"))


def _name_keys(engine: Engine) -> None:
    """The keys ``link_input`` takes from a forename, a surname or an address, once per
    distinct value (FORENAME_KEYS: forename, forename_resolved, forename_skeleton;
    SURNAME_KEYS likewise; ADDRESS_KEYS: address, address_key): a workspace holds a few names
    many times, and each key costs a dozen string operations. ``{name}_resolved`` is the name
    as the name lists resolve it (:func:`_resolved_names`); ``{name}_skeleton`` the
    spelling-tolerant key of the name as written, of which ``name_key`` is made
    (:func:`_written_key`)."""
    resolved = _resolved_names(engine)
    for table, column, skeleton in (
        (FORENAME_KEYS, "forename", skeleton_key("p.forename")),
        (SURNAME_KEYS, "surname", skeleton_key(surname_of("p.surname", "forenames_first"))),
    ):
        expression, joins = resolved[column]
        engine.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT p.{column}, {expression} AS {column}_resolved, {skeleton} AS {column}_skeleton
            FROM (SELECT DISTINCT {column} FROM person_record WHERE {column} IS NOT NULL) p
            {joins}"""
        )
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE {ADDRESS_KEYS} AS
        SELECT p.address, {address_key("p.address")} AS address_key
        FROM (SELECT DISTINCT address FROM person_record WHERE address IS NOT NULL) p"""
    )


def held_fields(engine: Engine, table: str = LINK_INPUT) -> frozenset[str]:
    """The columns of ``table`` that some record holds (not NULL everywhere): the model
    compares and blocks on these only, so that a workspace without sexes, UK postcodes or
    identifiers is not given comparisons and rules that could never agree."""
    columns = engine.columns(table)
    counts = engine.query(
        "SELECT " + ", ".join(f'count("{column}") > 0' for column in columns) + f" FROM {table}"
    )[0]
    return frozenset(column for column, held in zip(columns, counts, strict=True) if held)
