"""Names in any script as plain ASCII letters, before the SQL name keys are built.

The SQL standardisers (:func:`casebridge.standard.sql.clean_name` and the keys built on it) work
on the letters a-z. A name written with letters outside ASCII (Nguyễn, Doğan, Ħasan, Олена,
Σοφία, 王, حسن) is first romanised here with anyascii, which covers all of Unicode, plus a few
rules from published romanisation standards where anyascii's letter-by-letter reading is not
what the script's speakers write (``data/romanisation_rules.csv``).

This is the one step of ingest that runs in Python, and it stays set-based: only the DISTINCT
name values holding a non-ASCII character are romanised, a set far smaller than the rows (a
1,000,000-row extract has at most a few tens of thousands of distinct non-ASCII names), and the
result goes back into the rows through a join, in SQL that means the same on DuckDB and Spark.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import pyarrow as pa
from anyascii import anyascii

from casebridge.engine import Engine
from casebridge.standard.datafiles import read_standard

NAME_COLUMNS = ("full_name_value", "forenames_value", "surname_value", "aliases_value")
LOOKUP_TABLE = "cb_romanised"
# RE2 (DuckDB) and Java (Spark) both read this as "a character outside printable ASCII"
NON_ASCII = "'[^ -~]'"
# letters proper; modifier letters (Lm: ʻ ʼ ˀ) are marks like the apostrophe and may vanish
LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lo"})
ACCENTS = "[\u0300-\u036f]*"
# the code point of a letter no romanisation reads is spelt with these, so it still meets itself
HEX_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


@dataclass(frozen=True)
class RomanisationRule:
    """One spelling applied before anyascii: ``pattern`` is replaced by ``spelling``."""

    pattern: re.Pattern[str]
    spelling: str

    def replace(self, match: re.Match[str]) -> str:
        """The spelling in the case of the text it replaces (ΟΥ → OU, Ου → Ou)."""
        matched = match.group()
        if matched.isupper():
            return self.spelling.upper()
        return self.spelling.capitalize() if matched[:1].isupper() else self.spelling


def _decomposed(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _rule(source: str, spelling: str, context: str) -> RomanisationRule:
    # names are matched decomposed, so that ού is ου plus an accent (and أ is ا plus hamza)
    # a digraph whose second vowel carries a diaeresis (αϋ) is two vowels, not a digraph
    regex = re.escape(_decomposed(source)) + "(?!" + ACCENTS + "\u0308)"
    if context == "start":
        regex = r"(?<!\w)" + regex
    elif context.startswith("before:"):
        regex += "(?=" + ACCENTS + "[" + re.escape(context.removeprefix("before:")) + "])"
    elif context:
        raise ValueError(f"romanisation_rules.csv: unknown context {context!r}")
    return RomanisationRule(re.compile(regex, re.IGNORECASE), spelling)


@cache
def romanisation_rules() -> tuple[RomanisationRule, ...]:
    """The rules of ``data/romanisation_rules.csv``, longest first, then in file order."""
    rows = read_standard("romanisation_rules", ("from", "to", "context"))
    ordered = sorted(rows, key=lambda row: -len(_decomposed(row["from"])))
    return tuple(_rule(row["from"], row["to"], row["context"]) for row in ordered)


def _code_point_spelling(word: str) -> str:
    """The letters of ``word`` spelt as their code points in the letters a-p (一 → xdeee)."""
    letters = (char for char in word if unicodedata.category(char) in LETTER_CATEGORIES)
    return "".join("x" + format(ord(char), "x").translate(HEX_AS_LETTERS) for char in letters)


def _romanise_word(word: str) -> str:
    decomposed = _decomposed(word)
    for rule in romanisation_rules():
        decomposed = rule.pattern.sub(rule.replace, decomposed)
    romanised = anyascii(decomposed)
    has_letter = any(unicodedata.category(char) in LETTER_CATEGORIES for char in word)
    if has_letter and not re.search("[A-Za-z]", romanised):
        # anyascii has no reading for it (a rare CJK ideograph, cuneiform): never lose a letter
        return _code_point_spelling(word)
    return romanised


def romanise(value: str) -> str:
    """Return ``value`` in ASCII: each word romanised, spaces kept.

    Examples:
        >>> romanise("Nguyễn Thị")
        'Nguyen Thi'
        >>> romanise("Παπαδόπουλος")
        'Papadopoulos'
    """
    if value.isascii():
        return value
    return "".join(_romanise_word(part) for part in re.split(r"(\s+)", value))


def _distinct_non_ascii_sql(table: str, columns: tuple[str, ...]) -> str:
    values = " UNION ".join(f"SELECT {column} AS value FROM {table}" for column in columns)
    return f"SELECT value FROM ({values}) v WHERE regexp_matches(value, {NON_ASCII})"


def _rewrite_sql(table: str, all_columns: list[str], columns: tuple[str, ...]) -> str:
    selected, joins = [], []
    for column in all_columns:
        if column in columns:
            alias = f"r_{column}"
            selected.append(f"coalesce({alias}.romanised, t.{column}) AS {column}")
            joins.append(f"LEFT JOIN {LOOKUP_TABLE} {alias} ON {alias}.value = t.{column}")
        else:
            selected.append(f"t.{column}")
    return (
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {', '.join(selected)} "
        f"FROM {table} t {' '.join(joins)}"
    )


def romanise_names(engine: Engine, table: str, columns: tuple[str, ...] = NAME_COLUMNS) -> int:
    """Rewrite ``columns`` of ``table`` in ASCII wherever they hold other characters.

    Returns how many distinct values were romanised. Leaves the table untouched when none was
    (the usual all-ASCII extract pays one scan). The ``*_raw`` columns are never touched.
    """
    distinct = [row[0] for row in engine.query(_distinct_non_ascii_sql(table, columns))]
    if not distinct:
        return 0
    lookup = pa.table(
        {"value": distinct, "romanised": [romanise(value) for value in distinct]},
        schema=pa.schema([("value", pa.string()), ("romanised", pa.string())]),
    )
    engine.create_table_from_arrow(LOOKUP_TABLE, lookup, temporary=True)
    engine.execute(_rewrite_sql(table, engine.columns(table), columns))
    return len(distinct)
