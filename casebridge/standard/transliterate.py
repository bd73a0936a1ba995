"""Names in any script as plain ASCII letters, before the SQL name keys are built.

The SQL standardisers (:func:`casebridge.standard.sql.clean_name` and the keys built on it) work
on the letters a-z. A name written with letters outside ASCII (Nguyễn, Doğan, Ħasan, Олена,
Σοφία, 王, حسن) is first romanised here with anyascii, which covers all of Unicode, plus a few
rules from published romanisation standards where anyascii's letter-by-letter reading is not
what the script's speakers write (``data/romanisation_rules.csv``).

This is the one step of ingest that runs in Python, and it stays set-based: only the DISTINCT
name values holding a non-ASCII character are romanised, a set far smaller than the rows (names
repeat: family names, given names), and the result goes back into the rows through a join, in SQL
that means the same on DuckDB and Spark.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import pyarrow as pa
from anyascii import anyascii

from casebridge.engine import Engine
from casebridge.errors import DataFileError
from casebridge.standard.datafiles import read_standard
from casebridge.standard.sql import text

NAME_COLUMNS = ("full_name_value", "forenames_value", "surname_value", "aliases_value")
LOOKUP_TABLE = "cb_romanised"
# RE2 (DuckDB) and Java (Spark) both read this as "a character outside printable ASCII"
NON_ASCII = text("[^ -~]")
# letters proper; modifier letters (Lm: ʻ ʼ ˀ) are marks like the apostrophe and may vanish
LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lo"})
ACCENTS = "[\u0300-\u036f]*"
# the code point of a letter no romanisation reads is spelt with these, so it still meets itself
HEX_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")
ASCII_LETTER = re.compile("[A-Za-z]")
SPACES = re.compile(r"(\s+)")


@dataclass(frozen=True)
class RomanisationRules:
    """Spellings applied before anyascii, as one pattern: alternative ``i`` (a capturing group,
    longest source first) is replaced by ``spellings[i - 1]``."""

    pattern: re.Pattern[str]
    spellings: tuple[str, ...]
    first_letters: re.Pattern[str]

    def apply(self, decomposed: str) -> str:
        """The text with every rule's source replaced by its spelling."""
        if not self.first_letters.search(decomposed):
            return decomposed  # a quick test: most names hold no letter any rule starts with
        return self.pattern.sub(self._spelling, decomposed)

    def _spelling(self, match: re.Match[str]) -> str:
        # the spelling in the case of the text it replaces (ΟΥ → OU, Ου → Ou)
        spelling, matched = self.spellings[(match.lastindex or 1) - 1], match.group()
        if matched.isupper():
            return spelling.upper()
        return spelling.capitalize() if matched[:1].isupper() else spelling


def _decomposed(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _rule_regex(source: str, context: str) -> str:
    # names are matched decomposed, so that ού is ου plus an accent (and أ is ا plus hamza)
    # a digraph whose second vowel carries a diaeresis (αϋ) is two vowels, not a digraph
    regex = re.escape(_decomposed(source)) + "(?!" + ACCENTS + "\u0308)"
    if context == "start":
        return r"(?<!\w)" + regex
    if context.startswith("before:"):
        return regex + "(?=" + ACCENTS + "[" + re.escape(context.removeprefix("before:")) + "])"
    if context:
        raise DataFileError(f"romanisation_rules.csv: unknown context {context!r}; see its header")
    return regex


@cache
def romanisation_rules() -> RomanisationRules:
    """The rules of ``data/romanisation_rules.csv``, longest first, then in file order."""
    rows = read_standard("romanisation_rules", ("from", "to", "context"))
    ordered = sorted(rows, key=lambda row: -len(_decomposed(row["from"])))
    alternatives = "|".join(f"({_rule_regex(row['from'], row['context'])})" for row in ordered)
    firsts = {_decomposed(row["from"])[0] for row in ordered}
    first_letters = "[" + re.escape("".join(sorted(firsts))) + "]"
    return RomanisationRules(
        re.compile(alternatives, re.IGNORECASE),
        tuple(row["to"] for row in ordered),
        re.compile(first_letters, re.IGNORECASE),
    )


def _code_point_spelling(word: str) -> str:
    """The letters of ``word`` spelt as their code points in the letters a-p (一 → xdeee)."""
    letters = (char for char in word if unicodedata.category(char) in LETTER_CATEGORIES)
    return "".join("x" + format(ord(char), "x").translate(HEX_AS_LETTERS) for char in letters)


@lru_cache(maxsize=65536)  # words recur across distinct names (Nguyễn Thị Lan, Nguyễn Văn Đức)
def _romanise_word(word: str) -> str:
    romanised = anyascii(romanisation_rules().apply(_decomposed(word)))
    if ASCII_LETTER.search(romanised) or not any(
        unicodedata.category(char) in LETTER_CATEGORIES for char in word
    ):
        return romanised
    # anyascii has no reading for it (a rare CJK ideograph, cuneiform): never lose a letter
    return _code_point_spelling(word)


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
    return "".join(_romanise_word(part) for part in SPACES.split(value))


def _distinct_non_ascii_sql(table: str, columns: tuple[str, ...]) -> str:
    """A query of (column, value): each distinct non-ASCII value of each of ``columns``."""
    return " UNION ".join(
        f"SELECT {text(column)} AS name_column, {column} AS value FROM {table} "
        f"WHERE regexp_matches({column}, {NON_ASCII})"
        for column in columns
    )


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
    (an all-ASCII extract pays one read of its name columns). ``*_raw`` columns are not touched.
    """
    found = engine.query(_distinct_non_ascii_sql(table, columns))
    if not found:
        return 0
    distinct = sorted({value for _, value in found})
    lookup = pa.table(
        {"value": distinct, "romanised": [romanise(value) for value in distinct]},
        schema=pa.schema([("value", pa.string()), ("romanised", pa.string())]),
    )
    engine.create_table_from_arrow(LOOKUP_TABLE, lookup, temporary=True)
    # only the columns that hold such a value are joined: a mapping feeds one or two of them
    named = {column for column, _ in found}
    holding = tuple(column for column in columns if column in named)
    engine.execute(_rewrite_sql(table, engine.columns(table), holding))
    return len(distinct)
