"""How common a middle name is among people of the same forename: the term frequency that
weighs agreement on middle names.

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

Splink looks term frequencies up by a column's value, so the key is a column of its own
(``middle_with_forename``: the forename and the middle names, NULL when either is) whose
lookup table, computed here, is registered with each linker and used by casebridge's own
scoring (``link/score.py``): its frequencies are not the key's own share of the records.
"""

from __future__ import annotations

from splink import Linker
from splink.internals.database_api import DatabaseAPISubClass

from casebridge.engine import Engine

MIDDLE_WITH_FORENAME = "middle_with_forename"
MINIMUM_FORENAME_RECORDS = 20  # fewer records of a forename: its own share is not trusted
SHRINKAGE = 20  # records' worth of the overall share added to each forename's counts
SEPARATOR = "|"  # between forename and middle names in the key (standard names hold no '|')
LOOKUP_PREFIX = "cb_tf_middle_"


def key_sql(forename: str, middle_names: str) -> str:
    """SQL: the key of a record's middle names given its forename (NULL when either is)."""
    return f"{forename} || '{SEPARATOR}' || {middle_names}"


def frequency_sql(table: str) -> str:
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


def uses_middle_frequencies(linker: Linker) -> bool:
    """Whether the linker's model adjusts a level by ``middle_with_forename`` (a model saved
    before the column existed does not)."""
    columns = linker._settings_obj._term_frequency_columns
    return any(column.unquote().name == MIDDLE_WITH_FORENAME for column in columns)


def register_middle_frequencies(
    engine: Engine, linker: Linker, db_api: DatabaseAPISubClass, table: str
) -> None:
    """Compute the lookup of ``table``'s records and register it with ``linker``, whose model
    adjusts the middle names by it (Splink would otherwise count the key's own share)."""
    if not uses_middle_frequencies(linker):
        return
    lookup = f"{LOOKUP_PREFIX}{table}"
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {lookup} AS {frequency_sql(table)}")
    linker.table_management.register_term_frequency_lookup(
        db_api.register(lookup), MIDDLE_WITH_FORENAME
    )
