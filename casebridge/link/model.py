"""The linkage model: comparisons designed for multi-agency records, and blocking rules.

Every level is a Splink library level or portable SQL marked as DuckDB's dialect, so Splink
can translate it for its Spark backend. Why each level exists is said beside it.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, SettingsCreator, block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.blocking_rule_library import CustomRule

from casebridge.engine import Engine
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
    column: str, other: str, key: str, other_key: str, phonetic: str, nicknames: bool = True
) -> cl.CustomComparison:
    """A forename or surname: exact, transliteration key, swapped, fuzzy, phonetic, initial."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=_present(
            [
                cll.NullLevel(column),
                cll.ExactMatchLevel(column).configure(tf_adjustment_column=column),
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
    comparison = _name(
        "surname", "forename", "surname_key", "forename_key", "surname_phonetic", nicknames=False
    )
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


def comparisons(fields: frozenset[str] = ALL_FIELDS) -> list[Any]:
    """Every comparison of the model, in the order charts show them; those on a field no
    record holds (``fields`` names the fields some record holds) are left out."""
    chosen: list[tuple[str, Any]] = [
        ("forename", _name("forename", "surname", "forename_key", "surname_key",
                           "forename_phonetic")),
        ("surname", _surname(fields)),
        ("birth_year", _date_of_birth(fields)),
        ("middle_names", cl.CustomComparison(
            output_column_name="middle_names",
            comparison_levels=[
                cll.NullLevel("middle_names"),
                cll.ExactMatchLevel("middle_names"),
                cll.JaroWinklerLevel("middle_names", 0.9),
                cll.ElseLevel(),
            ],
        )),
        ("alias_keys", _aliases()),
        ("sex", cl.ExactMatch("sex")),
        ("location", _location(fields)),
        ("identifiers", _identifiers()),
        ("phone", cl.ExactMatch("phone")),
        ("email", cl.ExactMatch("email")),
    ]  # fmt: skip
    return [comparison for field, comparison in chosen if field in fields]


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


def _rules_by_field() -> list[tuple[tuple[str, ...], BlockingRuleCreator]]:
    """Every prediction blocking rule with the fields it needs some record to hold."""
    names = (_same("forename_key"), _same("surname_key"))
    surname_initial = (_same("surname_key"), _initial("forename"))
    forename_surname_start = (
        _same("forename_key"), _start("surname"),
        _same("sex"),
    )  # fmt: skip
    rules: list[tuple[tuple[str, ...], BlockingRuleCreator]] = [
        ((), _rule(*names, _same("birth_year"))),
        # records with names only (no birth date, no age), on either side
        ((), _rule(*names, 'l."birth_year" IS NULL')),
        ((), _rule(*names, 'r."birth_year" IS NULL')),
        # the year of birth mistyped
        (("dob",), _rule(*names, _same("dob_month"), _same("dob_day"))),
        *((("birth_year",), rule) for rule in _near_when_undated(5, *names)),
        # a misspelt or different forename
        (("birth_year",), _rule(*surname_initial, _same("birth_year"))),
        *((("birth_year",), rule) for rule in _near_when_undated(2, *surname_initial)),
        # both names misspelt, the birth date right
        (("dob",), block_on("dob", "substr(forename, 1, 1)")),
        (("dob", "postcode_district"), block_on("dob", "postcode_district")),
        (("postal_code",), block_on("postal_code", "substr(forename, 1, 1)")),
        (("phone",), block_on("phone")),
        (("email",), block_on("email")),
        (
            ("birth_year",),
            _rule(_same("forename_phonetic"), _same("surname_phonetic"), _same("birth_year")),
        ),
        # names written the other way round, one of them also misspelt
        (
            (),
            _rule(
                _same("forename_key", "surname_key"), _same("surname_key", "forename_key"),
                _near(5),
            ),
        ),
        (
            ("birth_year",),
            _rule(
                _same("forename_key", "surname_key"), _same("birth_year"),
                _initial("surname", "forename"),
            ),
        ),
        (
            ("birth_year",),
            _rule(
                _same("surname_key", "forename_key"), _same("birth_year"),
                _initial("forename", "surname"),
            ),
        ),
        # a misspelt surname on a record that knows only an age
        *((("birth_year", "sex"), r) for r in _near_when_undated(5, *forename_surname_start)),
        # the same address, any names (a swap with a misspelling, a change of name)
        (("postcode",), _rule(_same("postcode"), _near(2))),
        # a misspelt name and a mistyped year of birth
        (("dob",), _rule(_same("forename_key"), _same("dob_month"), _same("dob_day"), _near(2))),
        (("dob",), _rule(_same("surname_key"), _same("dob_month"), _same("dob_day"), _near(2))),
        # a misspelt name on a record that knows nothing of its person's age
        *(
            (
                ("birth_year",),
                _rule(_same("forename_key"), _start("surname"), f'{side}."birth_year" IS NULL'),
            )
            for side in ("l", "r")
        ),
        *(
            (
                ("birth_year", "sex"),
                _rule(
                    _same("surname_key"), _start("forename"), _same("sex"),
                    f'{side}."birth_year" IS NULL',
                ),
            )
            for side in ("l", "r")
        ),
        *_located_rules(),
        # an identifier issued nationally, whatever the names and dates
        *(((scheme,), block_on(scheme)) for scheme in IDENTIFIER_SCHEMES),
    ]  # fmt: skip
    return rules


def _located_rules() -> list[tuple[tuple[str, ...], BlockingRuleCreator]]:
    """Rules that hold without any birth year: names, or a birth date, with a shared place.
    A place bounds the block as a birth year does (a name is common, a name at one postal code
    or address or in one town is not), so that records whose birth dates were lost or replaced
    wholesale are still compared."""
    rules: list[tuple[tuple[str, ...], BlockingRuleCreator]] = []
    for place in ("postal_code", "address_key", "town"):
        rules += [
            ((place,), block_on("forename_key", "surname_key", place)),
            ((place,), block_on("forename_phonetic", "surname_phonetic", place)),
            ((place, "dob"), block_on("dob", place)),
        ]
    return [
        *rules,
        # names written the other way round, at one place
        (
            ("postal_code",),
            _rule(
                _same("forename_key", "surname_key"),
                _same("surname_key", "forename_key"),
                _same("postal_code"),
            ),
        ),
        # one name misspelt as well
        (("postal_code",), block_on("forename_key", "postal_code")),
        (("postal_code",), block_on("surname_key", "postal_code")),
        # a household: the same address at the same postal code, any names
        (("postal_code", "address_key"), block_on("address_key", "postal_code")),
        (("town", "address_key"), block_on("address_key", "town")),
        # the birth date with either name's initial, wherever they live
        (("dob",), block_on("dob", "substr(surname, 1, 1)")),
    ]


def prediction_blocking_rules(
    fields: frozenset[str] = ALL_FIELDS,
) -> list[BlockingRuleCreator | dict[str, Any]]:
    """Rules whose union must compare almost every true match (measured by ``evaluate``);
    a rule on a field no record holds (``fields`` names those some record holds) is left out.

    Rules on names ask for birth years that could belong to one person, or for a shared place
    or identifier: a common name alone makes a block that grows with the square of the
    population. Every rule joins on equal values (a condition on one side only, such as an
    unknown birth year, is applied before the join), so that its cost grows with the pairs it
    finds.
    """
    return [rule for needed, rule in _rules_by_field() if set(needed) <= fields]


def blocking_rule_sql(fields: frozenset[str] = ALL_FIELDS) -> list[str]:
    """The prediction blocking rules as DuckDB SQL conditions over ``l`` and ``r``."""
    return [
        rule.get_blocking_rule(DIALECT).blocking_rule_sql
        for rule in prediction_blocking_rules(fields)
        if isinstance(rule, BlockingRuleCreator)
    ]


def comparisons_per_rule(engine: Engine, sample: float = 1.0) -> list[tuple[str, int, int]]:
    """Each prediction blocking rule (for the fields ``link_input`` holds) with the pairs it
    adds to the rules before it and the running total, counted by Splink's
    ``count_comparisons_from_blocking_rules`` (exact, or estimated from a ``sample`` of
    records on each side)."""
    api = DuckDBAPI(connection=engine.connection)
    counted = count_comparisons_from_blocking_rules(
        api.register(LINK_INPUT),
        blocking_rules=prediction_blocking_rules(with_groups(held_fields(engine))),
        link_type="dedupe_only",
        record_sample_proportion=sample,
    )
    return [
        (row["blocking_rule"], row["marginal_comparison_count"], row["cumulative_comparison_count"])
        for row in counted
    ]


def training_blocking_rules() -> list[BlockingRuleCreator]:
    """EM sessions: each leaves free the comparisons the next one trains."""
    return [block_on("dob"), block_on("forename_key", "surname_key")]


def deterministic_rules() -> list[str | BlockingRuleCreator]:
    """Near-certain matches, for the prior (the share of pairs that match)."""
    return [block_on("forename_key", "surname_key", "dob")]


def settings(
    probability_two_random_records_match: float = 1e-5,
    max_iterations: int = 20,
    fields: frozenset[str] = ALL_FIELDS,
) -> SettingsCreator:
    """The Splink settings: dedupe over every source's records at once, comparing the fields
    some record holds (``fields``, from ``prepare.held_fields``)."""
    fields = with_groups(fields)
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons(fields),
        blocking_rules_to_generate_predictions=prediction_blocking_rules(fields),
        probability_two_random_records_match=probability_two_random_records_match,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["source"],
        max_iterations=max_iterations,
    )
