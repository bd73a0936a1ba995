"""How common a name is among people of the same forename: the term frequencies that weigh
agreement on middle names and on surnames.

Splink's term-frequency adjustment weighs an agreeing value by its share of all records. For
a middle name that share can mislead: many naming customs give a middle name that nearly every
person of one sex holds (a Vietnamese woman's *Thị* and man's *Văn*, a Sikh woman's *Kaur* and
man's *Singh* written as a middle name), which is rare among all records of a workspace and
near-certain among the records of the people it goes with. Two different women of one such
custom then agree on it as two strangers agree on a rare name, and it outweighed a missing or
conflicting birth date.

So the middle names' exact level is adjusted by the middle name's share among the records of
the same forename (a forename tells both the custom and, mostly, the sex): its frequency given
the forename. A forename held by few records says little about its holders' middle names, and
one person's several records would make the share look high: below MINIMUM_FORENAME_RECORDS
the share among all records is used, and above it the share given the forename is drawn
towards that overall share by SHRINKAGE records' worth (an additive prior). It is never taken
below the overall share: the adjustment only ever lowers what a shared middle name is worth.

A surname is weighed by the forename beside it for a like reason, in another way. Splink
adjusts the forename by its share and the surname by its own, as if the two were independent;
they are not where names follow a custom (*Mohammed* with *Ali* or *Khan*, a Vietnamese given
name with *Nguyen*): two different people who share such a full name are far more common than
the product of the shares says, and such pairs, an estimated age their only other evidence,
were most of the false links. The surname's exact level is adjusted by the surname's share of
the records times the full name's *lift*: how many more people hold the full name than the two
shares would give by chance. People, not records, are counted, since one person's several
records would make every full name look common: records of one forename, surname and birth
year count once. The lift is ``(holders - 1 + LIFT_PRIOR) / (expected + LIFT_PRIOR)``: the
person whose record it is left out, expected the holders the shares predict, and LIFT_PRIOR
expected holders' worth of independence added to both (a gamma-Poisson shrinkage towards 1,
as used to rank how far two items occur together beyond chance), so that a name a handful of
people hold moves little. It is never below 1 (and the frequency never above 1): the forename
and surname together then weigh as the full name's own frequency, and only ever less than
before.

Splink looks term frequencies up by a column's value, so each key is a column of its own
(``middle_with_forename`` and ``surname_with_forename``: the forename and the other name, NULL
when either is) whose lookup table, computed here, is registered with each linker and used by
casebridge's own scoring (``link/score.py``): its frequencies are not the key's own share of
the records.
"""

from __future__ import annotations

from splink import Linker
from splink.internals.database_api import DatabaseAPISubClass

from casebridge.engine import Engine

MIDDLE_WITH_FORENAME = "middle_with_forename"
SURNAME_WITH_FORENAME = "surname_with_forename"
MINIMUM_FORENAME_RECORDS = 20  # fewer records of a forename: its own share is not trusted
SHRINKAGE = 20  # records' worth of the overall share added to each forename's counts
LIFT_PRIOR = 5  # expected co-occurrences' worth of independence added to each full name's count
SEPARATOR = "|"  # between the forename and the other name in a key (standard names hold no '|')
LOOKUP_PREFIX = "cb_tf_given_forename_"


def key_sql(forename: str, name: str) -> str:
    """SQL: the key of a record's middle names or surname with its forename (NULL when either
    is)."""
    return f"{forename} || '{SEPARATOR}' || {name}"


def frequency_sql(table: str, key: str) -> str:
    """SQL: the lookup of key column ``key`` (one of KEYS) over ``table``'s records."""
    return KEYS[key](table)


def middle_frequency_sql(table: str) -> str:
    """SQL: one row per key of ``table`` with the frequency of its middle names among the
    records of its forename (``tf_middle_with_forename``), as the module docstring says."""
    tf = f"tf_{MIDDLE_WITH_FORENAME}"
    held = (
        f"SELECT forename, middle_names, {MIDDLE_WITH_FORENAME} FROM {table} "
        f"WHERE {MIDDLE_WITH_FORENAME} IS NOT NULL"
    )
    return f"""
        WITH held AS ({held}),
        total AS (SELECT CAST(count(*) AS DOUBLE) AS n FROM held),
        overall AS (SELECT middle_names, count(*) / max(total.n) AS share
            FROM held CROSS JOIN total GROUP BY middle_names),
        per_forename AS (SELECT forename, count(*) AS records FROM held GROUP BY forename),
        joint AS (SELECT {MIDDLE_WITH_FORENAME}, forename, middle_names, count(*) AS records
            FROM held GROUP BY {MIDDLE_WITH_FORENAME}, forename, middle_names)
        SELECT j.{MIDDLE_WITH_FORENAME}, CASE
                WHEN f.records >= {MINIMUM_FORENAME_RECORDS} THEN greatest(o.share,
                    (j.records + {SHRINKAGE} * o.share) / (f.records + {SHRINKAGE}))
                ELSE o.share END AS {tf}
        FROM joint j
        JOIN per_forename f ON f.forename = j.forename
        JOIN overall o ON o.middle_names = j.middle_names"""


def full_name_frequency_sql(table: str) -> str:
    """SQL: one row per full name (``surname_with_forename``) of ``table`` with the frequency
    that weighs two records agreeing on the surname (``tf_surname_with_forename``): the
    surname's share of the records times the full name's lift, as the module docstring says."""
    tf = f"tf_{SURNAME_WITH_FORENAME}"
    people = (
        f"SELECT DISTINCT forename, surname, {SURNAME_WITH_FORENAME}, birth_year FROM {table} "
        f"WHERE {SURNAME_WITH_FORENAME} IS NOT NULL"
    )
    return f"""
        WITH people AS ({people}),
        total AS (SELECT CAST(count(*) AS DOUBLE) AS n FROM people),
        records AS (SELECT CAST(count(*) AS DOUBLE) AS n FROM {table} WHERE surname IS NOT NULL),
        surname_share AS (SELECT surname, count(*) / max(records.n) AS share
            FROM {table} CROSS JOIN records WHERE surname IS NOT NULL GROUP BY surname),
        per_surname AS (SELECT surname, count(*) AS people FROM people GROUP BY surname),
        per_forename AS (SELECT forename, count(*) AS people FROM people GROUP BY forename),
        joint AS (SELECT {SURNAME_WITH_FORENAME}, forename, surname, count(*) AS people
            FROM people GROUP BY {SURNAME_WITH_FORENAME}, forename, surname)
        SELECT j.{SURNAME_WITH_FORENAME}, least(1.0, o.share * greatest(1.0,
                (j.people - 1 + {LIFT_PRIOR}) / (f.people * s.people / total.n + {LIFT_PRIOR})
            )) AS {tf}
        FROM joint j CROSS JOIN total
        JOIN per_forename f ON f.forename = j.forename
        JOIN per_surname s ON s.surname = j.surname
        JOIN surname_share o ON o.surname = j.surname"""


# each key column and the statement of its lookup
KEYS = {MIDDLE_WITH_FORENAME: middle_frequency_sql, SURNAME_WITH_FORENAME: full_name_frequency_sql}


def frequencies_given_forename(linker: Linker) -> list[str]:
    """The keys of KEYS by which the linker's model adjusts a level (a model saved before a
    key existed does not adjust by it)."""
    columns = {column.unquote().name for column in linker._settings_obj._term_frequency_columns}
    return [key for key in KEYS if key in columns]


def register_frequencies_given_forename(
    engine: Engine, linker: Linker, db_api: DatabaseAPISubClass, table: str
) -> None:
    """Compute the lookups of ``table``'s records and register them with ``linker``, whose model
    adjusts levels by them (Splink would otherwise count a key's own share)."""
    for key in frequencies_given_forename(linker):
        lookup = f"{LOOKUP_PREFIX}{key}_{table}"
        engine.execute(f"CREATE OR REPLACE TEMP TABLE {lookup} AS {frequency_sql(table, key)}")
        linker.table_management.register_term_frequency_lookup(db_api.register(lookup), key)
