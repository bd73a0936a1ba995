"""Standardisers as SQL expressions: each takes an expression and returns one.

They are written in DuckDB's dialect using only forms that mean the same on Spark: regular
expressions always with the 'g' flag, no backreferences and no backslashes, ``translate`` rather
than ``strip_accents``, ``make_date`` after checking the parts, and ``CASE`` guards before
casts. ``tests/standard`` checks them with hypothesis; ``tests/ingest`` transpiles them to Spark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCENTED = "àáâãäåāăąçćčďđèéêëēėęěìíîïīįıłľĺñńňòóôõöøōőŕřśşšșťţțùúûüūůűųýÿźżžðþ’`"
UNACCENTED = "aaaaaaaaacccddeeeeeeeeiiiiiiilllnnnoooooooorrsssstttuuuuuuuuyyzzzdt''"
LIGATURES = (("ß", "ss"), ("æ", "ae"), ("œ", "oe"))
TITLES = "mr|mrs|ms|miss|mstr|master|dr|prof|rev|sir|dame|lady|lord"
SOUNDEX_FROM = "bfpvcgjkqsxzdtlmnraeiouyhw"
SOUNDEX_TO = "111122222222334556"
DOUBLES = "bcdfgklmnprstvz"
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
assert len(ACCENTED) == len(UNACCENTED)


def text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def blank_to_null(expr: str) -> str:
    """The trimmed value, NULL when empty."""
    return f"nullif(trim({expr}), '')"


def fold(expr: str) -> str:
    """Lower case with accents and apostrophe-like marks folded to plain letters.

    Only the common Latin accents are folded here. Ingest romanises names written with any other
    letter first (:mod:`casebridge.standard.transliterate`, anyascii), so names reach this in ASCII.
    """
    lowered = f"lower({expr})"
    for letter, letters in LIGATURES:
        lowered = f"replace({lowered}, '{letter}', '{letters}')"
    return f"translate({lowered}, {text(ACCENTED)}, {text(UNACCENTED)})"


def clean_name(expr: str) -> str:
    """A name as words of a-z: accents folded, punctuation and titles gone, hyphens as spaces.

    Give it a romanised name (:func:`casebridge.standard.transliterate.romanise`): a letter that
    :func:`fold` does not know is dropped.
    """
    letters = f"regexp_replace({fold(expr)}, '[^a-z -]', '', 'g')"
    spaced = f"regexp_replace({letters}, '[ -]+', ' ', 'g')"
    untitled = f"regexp_replace(trim({spaced}), '^(({TITLES}) )+', '', 'g')"
    return f"nullif(trim({untitled}), '')"


def first_word(expr: str) -> str:
    """The first word of a cleaned name."""
    return f"nullif(regexp_extract({expr}, '^([^ ]+)', 1), '')"


def other_words(expr: str) -> str:
    """Every word of a cleaned name but the first (middle names)."""
    return f"nullif(regexp_extract({expr}, '^[^ ]+ (.+)$', 1), '')"


def squash(expr: str) -> str:
    """A cleaned name with its spaces removed (compound surnames as one key)."""
    return f"replace({expr}, ' ', '')"


def phonetic_key(expr: str) -> str:
    """A Soundex-like key of a cleaned name: first letter, then up to three sound classes."""
    word = squash(expr)
    digits = f"translate(substr({word}, 2), {text(SOUNDEX_FROM)}, {text(SOUNDEX_TO)})"
    for digit in "123456":
        digits = f"regexp_replace({digits}, '{digit}+', '{digit}', 'g')"
    return f"nullif(left({word}, 1) || left({digits}, 3), '')"


def skeleton_key(expr: str) -> str:
    """A transliteration-tolerant key: spellings of one sound meet (Hussain, Hussein, Husain).

    Digraphs become one letter, vowels and h, w, y after the first letter go, doubles collapse.
    """
    word = squash(expr)
    for old, new in (("ph", "f"), ("kh", "k"), ("gh", "g"), ("ck", "k"), ("q", "k"), ("z", "s")):
        word = f"replace({word}, '{old}', '{new}')"
    body = f"translate(substr({word}, 2), 'aeiouyhw', '')"
    for letter in DOUBLES:
        body = f"replace({body}, '{letter}{letter}', '{letter}')"
    return f"nullif(left({word}, 1) || {body}, '')"


def surname_of(full_name: str, order: str) -> str:
    """The surname part of a full name held in one field.

    ``surname_first``: before the comma, or the first word when there is no comma;
    ``forenames_first``: the last word.
    """
    name = f"trim({full_name})"
    if order == "surname_first":
        before_comma = f"regexp_extract({name}, '^([^,]*),', 1)"
        first = f"regexp_extract({name}, '^([^ ]+)', 1)"
        chosen = f"CASE WHEN instr({name}, ',') > 0 THEN {before_comma} ELSE {first} END"
        return f"nullif(trim({chosen}), '')"
    return f"nullif(regexp_extract({name}, '([^ ]+)$', 1), '')"


def forenames_of(full_name: str, order: str) -> str:
    """The forenames part of a full name held in one field (everything but the surname)."""
    name = f"trim({full_name})"
    if order == "surname_first":
        after_comma = f"regexp_extract({name}, ',([^,]*)$', 1)"
        rest = f"substr({name}, length(regexp_extract({name}, '^([^ ]+)', 1)) + 1)"
        return (
            f"nullif(trim(CASE WHEN instr({name}, ',') > 0 THEN {after_comma} ELSE {rest} END), '')"
        )
    surname = f"regexp_extract({name}, '([^ ]+)$', 1)"
    return f"nullif(trim(left({name}, length({name}) - length({surname}))), '')"


OUTWARD = "[A-Z]{1,2}[0-9][A-Z0-9]?"


def postcode_layers(expr: str, prefix: str) -> tuple[dict[str, str], str, str]:
    """Like :func:`postcode_parts`, in two layers: (part columns, postcode, precision)."""
    squashed = f"upper(regexp_replace(coalesce({expr}, ''), '[^A-Za-z0-9]', '', 'g'))"
    spaced = f"upper(trim(regexp_replace(coalesce({expr}, ''), '[^A-Za-z0-9]+', ' ', 'g')))"
    parts = {f"{prefix}_squashed": squashed, f"{prefix}_spaced": spaced}
    postcode, precision = _postcode_from(f"{prefix}_squashed", f"{prefix}_spaced")
    return parts, postcode, precision


def postcode_parts(expr: str) -> tuple[str, str]:
    """(postcode, precision) of a UK postcode: 'unit', 'sector' or 'district'; NULL if malformed."""
    squashed = f"upper(regexp_replace(coalesce({expr}, ''), '[^A-Za-z0-9]', '', 'g'))"
    spaced = f"upper(trim(regexp_replace(coalesce({expr}, ''), '[^A-Za-z0-9]+', ' ', 'g')))"
    return _postcode_from(squashed, spaced)


def _postcode_from(squashed: str, spaced: str) -> tuple[str, str]:
    outward = OUTWARD
    unit = f"regexp_matches({squashed}, '^{outward}[0-9][ABD-HJLNP-UW-Z]{{2}}$')"
    sector = f"regexp_matches({spaced}, '^{outward} [0-9]$')"
    district = f"regexp_matches({squashed}, '^{outward}$')"
    postcode = (
        f"CASE WHEN {unit} THEN left({squashed}, length({squashed}) - 3) || ' ' || "
        f"right({squashed}, 3) WHEN {sector} THEN {spaced} WHEN {district} THEN {squashed} END"
    )
    precision = (
        f"CASE WHEN {unit} THEN 'unit' WHEN {sector} THEN 'sector' "
        f"WHEN {district} THEN 'district' END"
    )
    return postcode, precision


@dataclass(frozen=True)
class DateFormat:
    """One strftime-style date format compiled to a regular expression."""

    pattern: str
    year: int
    month: int | None
    day: int | None
    month_name: bool

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"


DIRECTIVES = {
    "%Y": ("([0-9]{4})", "year"),
    "%m": ("([0-9]{1,2})", "month"),
    "%d": ("([0-9]{1,2})", "day"),
    "%b": ("([A-Za-z]{3})", "month_name"),
    "%B": ("([A-Za-z]{3})[A-Za-z]*", "month_name"),
    "%H": ("[0-9]{1,2}", ""),
    "%M": ("[0-9]{2}", ""),
    "%S": ("[0-9]{2}", ""),
}


def compile_format(fmt: str) -> DateFormat:
    """Compile ``%Y-%m-%d``-style formats; raise ValueError on one we cannot read."""
    pattern, groups, position = "", {}, 0
    for token in re.findall(r"%.|[^%]", fmt):
        if token.startswith("%"):
            if token not in DIRECTIVES:
                raise ValueError(f"unsupported date directive {token} in {fmt!r}")
            regex, name = DIRECTIVES[token]
            pattern += regex
            if name:
                position += 1
                groups[name] = position
        else:
            pattern += f"[{token}]" if token not in "^]\\" else "\\" + token
    if "year" not in groups:
        raise ValueError(f"date format {fmt!r} has no %Y")
    month = groups.get("month") or groups.get("month_name")
    return DateFormat(pattern, groups["year"], month, groups.get("day"), "month_name" in groups)


def _month_number(group: str) -> str:
    """The month's number from its name's first three letters (NULL if none)."""
    cases = " ".join(f"WHEN '{name}' THEN {number}" for number, name in enumerate(MONTHS, 1))
    return f"CASE lower({group}) {cases} END"


@dataclass(frozen=True)
class DateParse:
    """A date parse in two layers: ``parts`` (columns over the raw value), then expressions
    over those columns. Splitting them lets the engine extract each part once."""

    parts: dict[str, str]
    date: str
    precision: str
    problem: str


def _part(value: str, fmt: DateFormat, group: int | None, matched: str, month_name: bool) -> str:
    if group is None:
        return "1"
    extracted = f"regexp_extract({value}, '^{fmt.pattern}$', {group})"
    number = _month_number(extracted) if month_name else f"CAST({extracted} AS INTEGER)"
    return f"CASE WHEN {matched} THEN {number} END"


def _valid(year: str, month: str, day: str) -> str:
    leap = f"(({year} % 4 = 0 AND {year} % 100 <> 0) OR {year} % 400 = 0)"
    days_in_month = (
        f"CASE WHEN {month} IN (4, 6, 9, 11) THEN 30 WHEN {month} = 2 THEN "
        f"CASE WHEN {leap} THEN 29 ELSE 28 END ELSE 31 END"
    )
    return (
        f"{year} BETWEEN 1800 AND 2200 AND {month} BETWEEN 1 AND 12 "
        f"AND {day} BETWEEN 1 AND {days_in_month}"
    )


def parse_date(expr: str, formats: list[str], prefix: str) -> DateParse:
    """Parse a text date against ``formats`` in order.

    ``parts`` are columns named ``{prefix}_*`` to compute over the raw value first; ``date``,
    ``precision`` and ``problem`` are then expressions over them. problem is NULL for an empty
    or good value, 'impossible_date' for a value with a format's shape that is no calendar date,
    and 'unrecognised_date' for one that has no format's shape.
    """
    value = blank_to_null(expr)
    parts: dict[str, str] = {}
    oks, dates, precisions, shapes = [], [], [], []
    for index, fmt in enumerate(compile_format(f) for f in formats):
        name = f"{prefix}_{index}"
        matched = f"regexp_matches({value}, '^{fmt.pattern}$')"
        parts[f"{name}_shaped"] = f"coalesce({matched}, false)"
        parts[f"{name}_y"] = _part(value, fmt, fmt.year, matched, False)
        parts[f"{name}_m"] = _part(value, fmt, fmt.month, matched, fmt.month_name)
        parts[f"{name}_d"] = _part(value, fmt, fmt.day, matched, False)
        year, month, day = f"{name}_y", f"{name}_m", f"{name}_d"
        ok = f"coalesce({name}_shaped AND {_valid(year, month, day)}, false)"
        oks.append(ok)
        dates.append(f"WHEN {ok} THEN make_date({year}, {month}, {day})")
        precisions.append(f"WHEN {ok} THEN '{fmt.precision}'")
        shapes.append(f"{name}_shaped")
    any_ok = " OR ".join(oks)
    return DateParse(
        parts=parts,
        date=f"CASE {' '.join(dates)} END",
        precision=f"CASE {' '.join(precisions)} END",
        problem=(
            f"CASE WHEN {value} IS NULL OR {any_ok} THEN NULL "
            f"WHEN {' OR '.join(shapes)} THEN 'impossible_date' ELSE 'unrecognised_date' END"
        ),
    )


def parse_date_select(source: str, expr: str, formats: list[str]) -> str:
    """A query of (date, precision, problem) over ``source``: parse_date's two layers."""
    parse = parse_date(expr, formats, "d")
    parts = ", ".join(f"{sql} AS {name}" for name, sql in parse.parts.items())
    return (
        f"SELECT {parse.date} AS date, {parse.precision} AS precision, "
        f"{parse.problem} AS problem FROM (SELECT *, {parts} FROM {source})"
    )


def flag_of(expr: str) -> str:
    """True or false from the usual words for yes and no; NULL otherwise."""
    value = f"lower(trim({expr}))"
    return (
        f"CASE WHEN {value} IN ('y', 'yes', 'true', 't', '1') THEN true "
        f"WHEN {value} IN ('n', 'no', 'false', 'f', '0') THEN false END"
    )


def phone_of(expr: str) -> str:
    """A UK phone number as digits with a leading 0; NULL unless it has 10 or 11 digits."""
    digits = f"regexp_replace(coalesce({expr}, ''), '[^0-9]', '', 'g')"
    national = (
        f"CASE WHEN left({digits}, 2) = '44' THEN '0' || substr({digits}, 3) ELSE {digits} END"
    )
    return f"CASE WHEN regexp_matches({national}, '^0[0-9]{{9,10}}$') THEN {national} END"


def offence_code(expr: str) -> str:
    """A Home Office offence code as the code list writes it: '019E', '19/E' and '19 E' are 19E."""
    compact = f"regexp_replace(upper(trim({expr})), '[^A-Z0-9]', '', 'g')"
    return f"nullif(regexp_replace({compact}, '^0+', '', 'g'), '')"


def outcome_code(expr: str) -> str:
    """A Home Office outcome code as the code list writes it: '08' and ' 8' are 8."""
    return f"nullif(regexp_replace(trim({expr}), '^0+', '', 'g'), '')"


def soa_section(expr: str) -> str:
    """A Sexual Offences Act 2003 section as 's9', 's9(2)': 'S.9', 'Section 9(2)' read alike."""
    compact = f"replace(lower(trim({expr})), ' ', '')"
    bare = f"regexp_replace({compact}, '^(section|sect|sec|s)[.]*', '', 'g')"
    return f"CASE WHEN regexp_matches({bare}, '^[0-9]') THEN 's' || {bare} END"


def calendar_age(born: str, on: str) -> str:
    """Age in whole years on a date, as the law counts it."""
    before_birthday = (
        f"CASE WHEN month({on}) < month({born}) OR (month({on}) = month({born}) "
        f"AND day({on}) < day({born})) THEN 1 ELSE 0 END"
    )
    return f"year({on}) - year({born}) - {before_birthday}"


def address_key(expr: str) -> str:
    """An address as words of letters and digits, lower case with accents folded, single-spaced;
    NULL when empty (``12 High St.`` and ``12, high st`` are one key)."""
    words = f"regexp_replace({fold(expr)}, '[^a-z0-9]+', ' ', 'g')"
    return f"nullif(trim({words}), '')"


def words_key(expr: str) -> str:
    """Lower case, trimmed, single-spaced: the key free text is looked up by."""
    return f"regexp_replace(lower(trim({expr})), ' +', ' ', 'g')"
