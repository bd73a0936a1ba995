"""The linkage model: comparisons designed for multi-agency records, and blocking rules.

Every level is a Splink library level or portable SQL marked as DuckDB's dialect, so Splink
can translate it for its Spark backend. Why each level exists is said beside it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.blocking_rule_library import CustomRule

from casebridge.engine import Engine
from casebridge.errors import WorkspaceError
from casebridge.link.choices import (
    COMPARISON_FIELDS,
    COMPARISON_NAMES,
    SHIPPED,
    ModelChoices,
    within_dedupe_sources,
)
from casebridge.link.frequencies import MIDDLE_WITH_FORENAME, SURNAME_WITH_FORENAME
from casebridge.link.prepare import IDENTIFIER_SCHEMES, LINK_INPUT, held_fields

DIALECT = "duckdb"
REVIEW_FLOOR = 0.01  # pairs scored below this are not kept for review or explanation
SAME_ADDRESS = '"address_key_l" = "address_key_r" AND "postcode_district_l" = "postcode_district_r"'
KEY_SPELLING = 0.75  # Jaro-Winkler at which two names sharing a key are spelt alike


# the columns of link_input whose absence (no record holds them) drops comparisons, levels and
# blocking rules; "location" and "identifiers" stand for any of theirs
LOCATION_FIELDS = ("postcode_district", "postal_code", "town", "address_key")
OPTIONAL_FIELDS = (
    "forename", "surname", "birth_year", "middle_names", "middle_tokens", "surname_title",
    "alias_keys", "sex", "phone", "email",
    "dob", "dob_variants", "born_after", "postcode", "postcode_sector", "postcode_variants",
    *LOCATION_FIELDS,
    *IDENTIFIER_SCHEMES,
)  # fmt: skip
ALL_FIELDS = frozenset([*OPTIONAL_FIELDS, "location", "identifiers"])


def with_groups(fields: frozenset[str]) -> frozenset[str]:
    """``fields`` with "location" and "identifiers" added where a field of theirs is held."""
    groups = {"location": LOCATION_FIELDS, "identifiers": IDENTIFIER_SCHEMES}
    held = {group for group, members in groups.items() if fields & set(members)}
    return fields | held


def _when(fields: frozenset[str], field: str, level: Any) -> Any:
    """The level if some record holds ``field``, else None (left out by ``_present``)."""
    return level if field in fields else None


def _present(levels: list[Any]) -> list[Any]:
    return [level for level in levels if level is not None]


def variant_agrees(column: str) -> str:
    """SQL: one side's ``column`` is among the other's recorded variants (``{column}_variants``:
    a record whose rows give several birth dates or postcodes keeps them all)."""
    variants = f"{column}_variants"
    return (
        f'array_contains("{variants}_l", "{column}_r") '
        f'OR array_contains("{variants}_r", "{column}_l")'
    )


def _custom(condition: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(condition, label_for_charts=label, base_dialect_str=DIALECT)


def _name(
    column: str,
    other: str,
    key: str,
    other_key: str,
    phonetic: str,
    nicknames: bool = True,
    frequency: str | None = None,
) -> cl.CustomComparison:
    """A forename or surname: exact, transliteration key, swapped, fuzzy, phonetic, initial.
    The exact level is weighed by the name's frequency, or by the frequency that the column
    ``frequency`` gives it (link/frequencies.py)."""
    exact = cll.ExactMatchLevel(column).configure(
        tf_adjustment_column=frequency or column,
        disable_tf_exact_match_detection=frequency is not None,
    )
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=_present(
            [
                cll.NullLevel(column),
                exact,
                # Mohammed / Muhammad / Mohd, Hussain / Hussein, Bill / William meet here: the
                # key agrees and the name lists resolve both to one name, or the spellings are
                # alike. A key alone is lossy ('hayley' and 'holly' share 'hl'), so agreement on
                # it with unlike spellings is a weaker level further down
                _custom(
                    f'"{key}_l" = "{key}_r" AND ("{column}_resolved_l" = "{column}_resolved_r" '
                    f'OR jaro_winkler_similarity("{column}_l", "{column}_r") >= {KEY_SPELLING})',
                    f"{key} exact, spelt alike",
                ).configure(tf_adjustment_column=key, disable_tf_exact_match_detection=True),
                # forename and surname written the other way round: compared on the keys, so that a
                # respelling on top of the swap still counts, and as written (a nickname's key is
                # its formal name's, which the same word as a surname does not get)
                _custom(
                    f'"{key}_l" = "{other_key}_r" OR "{column}_l" = "{other}_r"',
                    f"{column} swapped with {other}",
                ),
                cll.JaroWinklerLevel(column, 0.92),
                # two names that share only a lossy key ('hayley' and 'holly' share 'hl'):
                # weighed by what such agreement is worth, below the spellings' own levels
                _custom(f'"{key}_l" = "{key}_r"', f"{key} exact, spelt unlike")
                if nicknames
                else None,
                cll.ExactMatchLevel(phonetic).configure(label_for_charts=f"{phonetic} exact"),
                cll.JaroWinklerLevel(column, 0.8),
                _custom(
                    f'substr("{column}_l", 1, 1) = substr("{column}_r", 1, 1)', f"{column} initial"
                ),
                cll.ElseLevel(),
            ]
        ),
    )


def _surname(fields: frozenset[str] = frozenset()) -> cl.CustomComparison:
    # nicknames are forenames': two surnames that share only a key are the initial's business
    # an agreeing surname is weighed by how common the full name is (link/frequencies.py): a
    # family name that a custom gives many holders of the forename says less
    comparison = _name(
        "surname", "forename", "surname_key", "forename_key", "surname_phonetic",
        nicknames=False, frequency=SURNAME_WITH_FORENAME,
    )  # fmt: skip
    levels = list(comparison._comparison_levels)
    order_free = _present(
        [
            # compound surnames: 'ahmed khan' and 'khan' share a word
            cll.ArrayIntersectLevel("surname_tokens", 1),
            # one record's surname is among the other's middle names, in any order: a Somali
            # chain written with the father's name in one record and the grandfather's in
            # another, a Sikh's Kaur or Singh as middle name in one and as surname in the other
            _when(
                fields,
                "middle_tokens",
                _custom(
                    'array_contains("middle_tokens_l", "surname_r") '
                    'OR array_contains("middle_tokens_r", "surname_l")',
                    "surname a middle name of the other record",
                ),
            ),
        ]
    )
    levels[4:4] = order_free
    # one surname is a name a custom gives in place of a family surname (Singh, Kaur, Begum:
    # prepare.surname_titles) and the other is not: one person's records often differ so;
    # weighed by EM, above a mere shared initial
    title = _when(
        fields,
        "surname_title",
        _custom(
            'coalesce("surname_title_l", false) <> coalesce("surname_title_r", false)',
            "one surname a name given in place of a family surname",
        ),
    )
    if title is not None:
        levels.insert(len(levels) - 2, title)
    return cl.CustomComparison(output_column_name="surname", comparison_levels=levels)


def _year_slip() -> str:
    """SQL: two birth years one slip of the keys or of a guess apart: at most two years, one
    digit different, or the last two digits swapped. Two people who share a day and month of
    birth are common in a large population (one in 365 pairs); two dates a typist or a guessed
    age turned into each other are not eight years apart."""
    left, right = 'CAST("dob_year_l" AS VARCHAR)', 'CAST("dob_year_r" AS VARCHAR)'
    swapped = f"substr({left}, 1, 2) || substr({left}, 4, 1) || substr({left}, 3, 1)"
    return (
        f'(abs("dob_year_l" - "dob_year_r") <= 2 OR levenshtein({left}, {right}) = 1 '
        f"OR {swapped} = {right})"
    )


def _date_of_birth(fields: frozenset[str]) -> cl.CustomComparison:
    """Birth dates: exact, another date a record holds, day and month swapped, one part wrong,
    year only, an age at an event that the date agrees with, near in years."""
    parts = ("dob_year", "dob_month", "dob_day")
    same = {p: f'"{p}_l" = "{p}_r"' for p in parts}
    estimated = '"dob_year_l" IS NULL OR "dob_year_r" IS NULL'
    levels = [
        cll.NullLevel("birth_year"),
        cll.ExactMatchLevel("dob"),
        # a record whose rows give several birth dates: any of them is the other's
        _when(
            fields,
            "dob_variants",
            _custom(
                f'"dob_l" IS NOT NULL AND "dob_r" IS NOT NULL AND ({variant_agrees("dob")})',
                "another recorded birth date agrees",
            ),
        ),
        _custom(
            f'{same["dob_year"]} AND "dob_month_l" = "dob_day_r" AND "dob_day_l" = "dob_month_r"',
            "day and month swapped",
        ),
        _custom(
            f'"dob_l" IS NOT NULL AND "dob_r" IS NOT NULL AND ('
            f"({same['dob_year']} AND {same['dob_month']}) OR "
            f"({same['dob_year']} AND {same['dob_day']}) OR "
            f"({same['dob_month']} AND {same['dob_day']} AND {_year_slip()}))",
            "one part of the date wrong",
        ),
        _custom(
            f'{same["dob_year"]} AND ("dob_l" IS NULL OR "dob_r" IS NULL)',
            "same year, day unknown on one side",
        ),
        # one side knows only an age at an event: the birth date the other gives (or the other's
        # own age at an event) makes that age at that event
        _when(
            fields,
            "born_after",
            _custom(
                '("dob_l" BETWEEN "born_after_r" AND "born_before_r") '
                'OR ("dob_r" BETWEEN "born_after_l" AND "born_before_l") '
                'OR ("born_after_l" <= "born_before_r" AND "born_after_r" <= "born_before_l")',
                "age at an event agrees",
            ),
        ),
        # one side knows only an age at an event (a reporter's guess): its own levels, so
        # that agreeing to within a few years counts as the evidence it is for such records
        _custom(
            f'({estimated}) AND abs("birth_year_l" - "birth_year_r") <= 2',
            "estimated birth years within two",
        ),
        _custom(
            f'({estimated}) AND abs("birth_year_l" - "birth_year_r") <= 5',
            "estimated birth years within five",
        ),
        _custom('abs("birth_year_l" - "birth_year_r") <= 2', "birth years within two"),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(
        output_column_name="date_of_birth", comparison_levels=_present(levels)
    )


def _aliases() -> cl.CustomComparison:
    """An alias of one record (another name it was known by) written as the other's name.

    Only where neither name agrees on its key, nor meets the other's other name: where one
    does, the names' own levels (the swap among them) already weigh the pair, and the alias
    would count the same agreement twice. Compared on keys tolerant of spelling, since an alias
    is often a misspelling or the name in another order."""
    names_agree = (
        '("forename_key_l" = "forename_key_r" OR "surname_key_l" = "surname_key_r" '
        'OR "forename_key_l" = "surname_key_r" OR "surname_key_l" = "forename_key_r" '
        'OR "forename_l" = "surname_r" OR "surname_l" = "forename_r")'
    )
    return cl.CustomComparison(
        output_column_name="aliases",
        comparison_levels=[
            _custom('"alias_keys_l" IS NULL AND "alias_keys_r" IS NULL', "no aliases").configure(
                is_null_level=True
            ),
            _custom(
                '(array_contains("alias_keys_l", "name_key_r") '
                f'OR array_contains("alias_keys_r", "name_key_l")) AND NOT {names_agree}',
                "an alias is the other's name",
            ),
            cll.ElseLevel(),
        ],
    )


def _location(fields: frozenset[str]) -> cl.CustomComparison:
    """Where a person lives, in any country: the same house in the same area (an address
    means little without its area: every town has a 12 High Street), a similar address there,
    the same postal code (a UK postcode's unit, or another country's code), the UK postcode's
    sector, the same address elsewhere, the UK district, the same town."""
    same = {c: f'"{c}_l" = "{c}_r"' for c in LOCATION_FIELDS}
    area = f"({same['postcode_district']} OR {same['postal_code']} OR {same['town']})"
    unknown = " AND ".join(f'"{c}_{{side}}" IS NULL' for c in LOCATION_FIELDS)
    levels = [
        _custom(
            f"({unknown.format(side='l')}) OR ({unknown.format(side='r')})", "no location"
        ).configure(is_null_level=True),
        _custom(f"{same['address_key']} AND {area}", "same address in the same area"),
        _custom(
            f'jaro_winkler_similarity("address_key_l", "address_key_r") >= 0.9 AND {area}',
            "a similar address in the same area",
        ),
        cll.ExactMatchLevel("postal_code"),
        # a record whose rows give several postcodes: any of them is the other's
        _when(
            fields,
            "postcode_variants",
            _custom(variant_agrees("postcode"), "another recorded postcode agrees"),
        ),
        _when(fields, "postcode_sector", cll.ExactMatchLevel("postcode_sector")),
        _custom(same["address_key"], "same address, another area"),
        _when(fields, "postcode_district", cll.ExactMatchLevel("postcode_district")),
        _when(fields, "town", cll.ExactMatchLevel("town")),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(output_column_name="location", comparison_levels=_present(levels))


def _identifiers() -> cl.CustomComparison:
    """National identifiers (NHS number, UPN, PNC id, passport): the same value of a scheme
    both records hold is near-proof; different values are evidence against (or a typo)."""
    both = " OR ".join(f'("{s}_l" IS NOT NULL AND "{s}_r" IS NOT NULL)' for s in IDENTIFIER_SCHEMES)
    # a record whose rows give several numbers of one scheme (a typo corrected in a later row)
    # is compared on the one most rows give, and agrees if any of its others is the other's
    agree = " OR ".join(f'"{s}_l" = "{s}_r" OR {variant_agrees(s)}' for s in IDENTIFIER_SCHEMES)
    return cl.CustomComparison(
        output_column_name="identifiers",
        comparison_levels=[
            _custom(f"NOT ({both})", "no scheme on both sides").configure(is_null_level=True),
            _custom(agree, "an identifier agrees"),
            cll.ElseLevel(),
        ],
    )


def comparisons(
    fields: frozenset[str] = ALL_FIELDS, drop: frozenset[str] = frozenset()
) -> list[Any]:
    """Every comparison of the model, in the order charts show them, by menu name
    (``COMPARISON_NAMES``); those on a field no record holds (``fields`` names the fields some
    record holds) and those a workspace drops (``drop``, by name) are left out."""
    chosen: list[tuple[str, Any]] = [
        ("forename", _name("forename", "surname", "forename_key", "surname_key",
                           "forename_phonetic")),
        ("surname", _surname(fields)),
        ("date_of_birth", _date_of_birth(fields)),
        ("middle_names", cl.CustomComparison(
            output_column_name="middle_names",
            comparison_levels=[
                cll.NullLevel("middle_names"),
                # weighed by how common the middle name is among people of the same forename:
                # a middle name nearly every woman of a custom holds (Thi, Kaur) says little
                cll.ExactMatchLevel("middle_names").configure(
                    tf_adjustment_column=MIDDLE_WITH_FORENAME,
                    disable_tf_exact_match_detection=True,
                ),
                cll.JaroWinklerLevel("middle_names", 0.9),
                cll.ElseLevel(),
            ],
        )),
        ("aliases", _aliases()),
        ("sex", cl.ExactMatch("sex")),
        ("location", _location(fields)),
        ("identifiers", _identifiers()),
        ("phone", cl.ExactMatch("phone")),
        ("email", cl.ExactMatch("email")),
    ]  # fmt: skip
    return [
        comparison
        for name, comparison in chosen
        if COMPARISON_FIELDS[name] in fields and name not in drop
    ]


def _rule(*conditions: str) -> CustomRule:
    return CustomRule(" AND ".join(conditions), sql_dialect=DIALECT)


def _same(column: str, other: str | None = None) -> str:
    return f'l."{column}" = r."{other or column}"'


def _initial(column: str, other: str | None = None) -> str:
    return f'substr(l."{column}", 1, 1) = substr(r."{other or column}", 1, 1)'


def _start(column: str, other: str | None = None) -> str:
    """The first two letters agree (a misspelling seldom touches both)."""
    return f'substr(l."{column}", 1, 2) = substr(r."{other or column}", 1, 2)'


def _near(years: int) -> str:
    """Birth years at most ``years`` apart, or not known on one side."""
    return (
        f'(l."birth_year" IS NULL OR r."birth_year" IS NULL '
        f'OR abs(l."birth_year" - r."birth_year") <= {years})'
    )


def _near_when_undated(years: int, *keys: str) -> list[CustomRule]:
    """Rules joining ``keys`` where one side has no full birth date (an age, or a year only)
    and the birth years are at most ``years`` apart. Joined on bands of birth years (two grids
    of bands 2 * years + 1 wide, the second shifted by ``years``: any two years at most
    ``years`` apart share a band in one of them), so the database joins on equal values
    instead of filtering every pair that shares the keys."""
    width = 2 * years + 1
    return [
        _rule(
            *keys,
            f'floor((l."birth_year" + {shift}) / {width}) '
            f'= floor((r."birth_year" + {shift}) / {width})',
            '(l."dob" IS NULL OR r."dob" IS NULL)',
            f'abs(l."birth_year" - r."birth_year") <= {years}',
        )
        for shift in (0, years)
    ]


# one prediction blocking rule: its name in the [link] menu, the fields it needs some record to
# hold, and the rule (a name may cover several rules, such as one for each side)
NamedRule = tuple[str, tuple[str, ...], BlockingRuleCreator]


def _rules_by_field() -> list[NamedRule]:
    """Every prediction blocking rule with its name and the fields it needs some record to
    hold, in the order Splink applies them."""
    names = (_same("forename_key"), _same("surname_key"))
    surname_initial = (_same("surname_key"), _initial("forename"))
    forename_surname_start = (
        _same("forename_key"), _start("surname"),
        _same("sex"),
    )  # fmt: skip
    rules: list[NamedRule] = [
        ("names_birth_year", (), _rule(*names, _same("birth_year"))),
        # records with names only (no birth date, no age), on either side
        ("names_no_birth_year", (), _rule(*names, 'l."birth_year" IS NULL')),
        ("names_no_birth_year", (), _rule(*names, 'r."birth_year" IS NULL')),
        # the year of birth mistyped
        ("names_day_month", ("dob",), _rule(*names, _same("dob_month"), _same("dob_day"))),
        *(("names_near_age", ("birth_year",), rule) for rule in _near_when_undated(5, *names)),
        # a misspelt or different forename
        (
            "surname_initial_birth_year", ("birth_year",),
            _rule(*surname_initial, _same("birth_year")),
        ),
        *(
            ("surname_initial_near_age", ("birth_year",), rule)
            for rule in _near_when_undated(2, *surname_initial)
        ),
        # both names misspelt, the birth date right
        ("dob_forename_initial", ("dob",), block_on("dob", "substr(forename, 1, 1)")),
        ("dob_postcode_district", ("dob", "postcode_district"),
         block_on("dob", "postcode_district")),
        ("postal_code_forename_initial", ("postal_code",),
         block_on("postal_code", "substr(forename, 1, 1)")),
        ("phone", ("phone",), block_on("phone")),
        ("email", ("email",), block_on("email")),
        (
            "phonetic_birth_year", ("birth_year",),
            _rule(_same("forename_phonetic"), _same("surname_phonetic"), _same("birth_year")),
        ),
        # names written the other way round, one of them also misspelt
        (
            "swapped_names", (),
            _rule(
                _same("forename_key", "surname_key"), _same("surname_key", "forename_key"),
                _near(5),
            ),
        ),
        (
            "swapped_one_name", ("birth_year",),
            _rule(
                _same("forename_key", "surname_key"), _same("birth_year"),
                _initial("surname", "forename"),
            ),
        ),
        (
            "swapped_one_name", ("birth_year",),
            _rule(
                _same("surname_key", "forename_key"), _same("birth_year"),
                _initial("forename", "surname"),
            ),
        ),
        # a misspelt surname on a record that knows only an age
        *(
            ("forename_surname_start_near_age", ("birth_year", "sex"), r)
            for r in _near_when_undated(5, *forename_surname_start)
        ),
        # the same address, any names (a swap with a misspelling, a change of name)
        ("postcode_near_birth_year", ("postcode",), _rule(_same("postcode"), _near(2))),
        # a misspelt name and a mistyped year of birth
        (
            "one_name_day_month", ("dob",),
            _rule(_same("forename_key"), _same("dob_month"), _same("dob_day"), _near(2)),
        ),
        (
            "one_name_day_month", ("dob",),
            _rule(_same("surname_key"), _same("dob_month"), _same("dob_day"), _near(2)),
        ),
        # a misspelt name on a record that knows nothing of its person's age
        *(
            (
                "forename_no_birth_year", ("birth_year",),
                _rule(_same("forename_key"), _start("surname"), f'{side}."birth_year" IS NULL'),
            )
            for side in ("l", "r")
        ),
        *(
            (
                "surname_no_birth_year", ("birth_year", "sex"),
                _rule(
                    _same("surname_key"), _start("forename"), _same("sex"),
                    f'{side}."birth_year" IS NULL',
                ),
            )
            for side in ("l", "r")
        ),
        *_located_rules(),
        # an identifier issued nationally, whatever the names and dates
        *((f"identifier_{scheme}", (scheme,), block_on(scheme)) for scheme in IDENTIFIER_SCHEMES),
    ]  # fmt: skip
    return rules


def _located_rules() -> list[NamedRule]:
    """Rules that hold without any birth year: names, or a birth date, with a shared place.
    A place bounds the block as a birth year does (a name is common, a name at one postal code
    or address or in one town is not), so that records whose birth dates were lost or replaced
    wholesale are still compared."""
    rules: list[NamedRule] = []
    for place, short in (("postal_code", "postal_code"), ("address_key", "address"),
                         ("town", "town")):  # fmt: skip
        rules += [
            (f"names_{short}", (place,), block_on("forename_key", "surname_key", place)),
            (
                f"phonetic_{short}", (place,),
                block_on("forename_phonetic", "surname_phonetic", place),
            ),
            (f"dob_{short}", (place, "dob"), block_on("dob", place)),
        ]  # fmt: skip
    return [
        *rules,
        # names written the other way round, at one place
        (
            "swapped_postal_code", ("postal_code",),
            _rule(
                _same("forename_key", "surname_key"),
                _same("surname_key", "forename_key"),
                _same("postal_code"),
            ),
        ),
        # one name misspelt as well
        ("forename_postal_code", ("postal_code",), block_on("forename_key", "postal_code")),
        ("surname_postal_code", ("postal_code",), block_on("surname_key", "postal_code")),
        # a household: the same address at the same postal code, any names
        (
            "address_postal_code", ("postal_code", "address_key"),
            block_on("address_key", "postal_code"),
        ),
        ("address_town", ("town", "address_key"), block_on("address_key", "town")),
        # the birth date with either name's initial, wherever they live
        ("dob_surname_initial", ("dob",), block_on("dob", "substr(surname, 1, 1)")),
    ]  # fmt: skip


def _extra_rules() -> list[NamedRule]:
    """The rules a workspace may add (``blocking_add``), none of them on by default: each makes
    blocks that grow with the square of a common value's records, or is a narrower form of a
    shipped rule, for a workspace that drops the wider one."""
    return [
        # a common name alone is a block of every one of its holders: costly on a large workspace
        ("names_only", (), block_on("forename_key", "surname_key")),
        ("phonetic_names_only", (), block_on("forename_phonetic", "surname_phonetic")),
        # a forename changed or anglicised, or a surname changed (marriage), with the birth year
        ("surname_birth_year", ("birth_year",), block_on("surname_key", "birth_year")),
        ("forename_birth_year", ("birth_year",), block_on("forename_key", "birth_year")),
        # narrower than dob_surname_initial and dob_forename_initial
        ("surname_dob", ("dob",), block_on("surname_key", "dob")),
        ("forename_dob", ("dob",), block_on("forename_key", "dob")),
        # both names changed, wherever they live
        ("dob_only", ("dob",), block_on("dob")),
        # both name keys in one UK postcode district, whatever the birth years
        ("names_postcode_district", ("postcode_district",),
         block_on("forename_key", "surname_key", "postcode_district")),
        # a household, whatever the names and birth years
        ("postcode_any_names", ("postcode",), block_on("postcode")),
        ("address_any_area", ("address_key",), block_on("address_key")),
    ]  # fmt: skip


def rule_names() -> tuple[str, ...]:
    """The names of the shipped prediction blocking rules, in order (``blocking_drop``)."""
    return tuple(dict.fromkeys(name for name, _, _ in _rules_by_field()))


def names_of(rules: list[str]) -> list[str]:
    """The menu name of each rule of ``rules`` (SQL over ``l`` and ``r``, as a saved model
    holds them), ``rule N`` (its position) for a rule that is not the menu's."""
    known: dict[str, str] = {}
    for name, _, rule in [*_rules_by_field(), *_extra_rules()]:
        sql = rule.get_blocking_rule(DIALECT).blocking_rule_sql
        known.setdefault(sql, name)
        known.setdefault(within_dedupe_sources(sql), name)
    return [known.get(rule, f"rule {position}") for position, rule in enumerate(rules)]


def extra_rule_names() -> tuple[str, ...]:
    """The names of the rules a workspace may add (``blocking_add``)."""
    return tuple(name for name, _, _ in _extra_rules())


def menu_problem(
    comparisons_drop: Collection[str], blocking_drop: Collection[str], blocking_add: Collection[str]
) -> str | None:
    """What is wrong with a workspace's choices from the menu, in one line (None: nothing)."""
    shipped = [name for name in blocking_add if name in rule_names()]
    if shipped:
        return (
            f"blocking_add: {shipped[0]!r} is a shipped rule, in use unless blocking_drop names it"
        )
    for key, chosen, menu in (
        ("comparisons_drop", comparisons_drop, COMPARISON_NAMES),
        ("blocking_drop", blocking_drop, rule_names()),
        ("blocking_add", blocking_add, extra_rule_names()),
    ):
        unknown = [name for name in chosen if name not in menu]
        if unknown:
            return f"{key}: unknown name {unknown[0]!r}; choose from: {', '.join(menu)}"
    if set(COMPARISON_NAMES) <= set(comparisons_drop):
        return "comparisons_drop: at least one comparison must stay"
    if set(rule_names()) <= set(blocking_drop) and not blocking_add:
        return "blocking_drop: at least one blocking rule must stay (or add one: blocking_add)"
    return None


def named_prediction_rules(
    fields: frozenset[str] = ALL_FIELDS, choices: ModelChoices = SHIPPED
) -> list[tuple[str, BlockingRuleCreator]]:
    """The prediction blocking rules with their names: the shipped ones less those the
    workspace drops, then those it adds, less any on a field no record holds (``fields``);
    where a source is free of duplicates, each rule leaves the pairs within it out."""
    named = [rule for rule in _rules_by_field() if rule[0] not in choices.blocking_drop]
    named += [rule for rule in _extra_rules() if rule[0] in choices.blocking_add]
    rules = [(name, rule) for name, needed, rule in named if set(needed) <= fields]
    if not rules:
        raise WorkspaceError(
            "no blocking rule is left for the fields this workspace holds: drop fewer rules "
            "(blocking_drop in [link]) or add one (blocking_add)"
        )
    if choices.has_duplicate_free_source:
        rules = [(name, _within_dedupe_sources(rule)) for name, rule in rules]
    return rules


def _within_dedupe_sources(rule: BlockingRuleCreator) -> BlockingRuleCreator:
    return CustomRule(
        within_dedupe_sources(rule.get_blocking_rule(DIALECT).blocking_rule_sql),
        sql_dialect=DIALECT,
    )


def prediction_blocking_rules(
    fields: frozenset[str] = ALL_FIELDS, choices: ModelChoices = SHIPPED
) -> list[BlockingRuleCreator | dict[str, Any]]:
    """Rules whose union must compare almost every true match (measured by ``evaluate``);
    a rule on a field no record holds (``fields`` names those some record holds) is left out,
    and the workspace's ``choices`` drop and add rules by name.

    Rules on names ask for birth years that could belong to one person, or for a shared place
    or identifier: a common name alone makes a block that grows with the square of the
    population. Every rule joins on equal values (a condition on one side only, such as an
    unknown birth year, is applied before the join), so that its cost grows with the pairs it
    finds.
    """
    return [rule for _, rule in named_prediction_rules(fields, choices)]


def blocking_rule_sql(
    fields: frozenset[str] = ALL_FIELDS, choices: ModelChoices = SHIPPED
) -> list[str]:
    """The prediction blocking rules as DuckDB SQL conditions over ``l`` and ``r``."""
    return [
        rule.get_blocking_rule(DIALECT).blocking_rule_sql
        for _, rule in named_prediction_rules(fields, choices)
    ]


def comparisons_per_rule(
    engine: Engine, sample: float = 1.0, choices: ModelChoices = SHIPPED
) -> list[tuple[str, str, int, int]]:
    """Each prediction blocking rule (for the fields ``link_input`` holds and the workspace's
    ``choices``) with its name, the pairs it adds to the rules before it and the running
    total, counted by Splink's ``count_comparisons_from_blocking_rules`` (exact, or estimated
    from a ``sample`` of records on each side). Pairs within a source free of duplicates are
    not counted: the rules leave them out."""
    api = engine.splink_api()
    named = named_prediction_rules(with_groups(held_fields(engine)), choices)
    counted = count_comparisons_from_blocking_rules(
        api.register(LINK_INPUT),
        blocking_rules=[rule for _, rule in named],
        link_type="dedupe_only",
        record_sample_proportion=sample,
    )
    return [
        (name, row["blocking_rule"], row["marginal_comparison_count"],
         row["cumulative_comparison_count"])
        for (name, _), row in zip(named, counted, strict=True)
    ]  # fmt: skip


def _limited(rules: list[BlockingRuleCreator], choices: ModelChoices) -> list[BlockingRuleCreator]:
    """``rules``, each leaving out pairs within a source free of duplicates where there is one."""
    if not choices.has_duplicate_free_source:
        return rules
    return [_within_dedupe_sources(rule) for rule in rules]


def training_blocking_rules(choices: ModelChoices = SHIPPED) -> list[BlockingRuleCreator]:
    """EM sessions: each leaves free the comparisons the next one trains."""
    return _limited([block_on("dob"), block_on("forename_key", "surname_key")], choices)


def deterministic_rules(choices: ModelChoices = SHIPPED) -> list[str | BlockingRuleCreator]:
    """Near-certain matches, for the prior (the share of pairs that match)."""
    return [*_limited([block_on("forename_key", "surname_key", "dob")], choices)]


def settings(
    probability_two_random_records_match: float = 1e-5,
    max_iterations: int = 20,
    fields: frozenset[str] = ALL_FIELDS,
    choices: ModelChoices = SHIPPED,
) -> SettingsCreator:
    """The Splink settings: dedupe over every source's records at once, comparing the fields
    some record holds (``fields``, from ``prepare.held_fields``) as the workspace's
    ``choices`` shape the model."""
    fields = with_groups(fields)
    chosen = comparisons(fields, choices.comparisons_drop)
    if not chosen:
        raise WorkspaceError(
            "no comparison is left for the fields this workspace holds: drop fewer "
            "(comparisons_drop in [link])"
        )
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=chosen,
        blocking_rules_to_generate_predictions=prediction_blocking_rules(fields, choices),
        probability_two_random_records_match=probability_two_random_records_match,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["source"],
        max_iterations=max_iterations,
    )
