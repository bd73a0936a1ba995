"""The linkage model: comparisons designed for multi-agency records, and blocking rules.

Every level is a Splink library level or portable SQL marked as DuckDB's dialect, so Splink
can translate it for its Spark backend. Why each level exists is said beside it.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.blocking_rule_library import CustomRule

DIALECT = "duckdb"
REVIEW_FLOOR = 0.01  # pairs scored below this are not kept for review or explanation
SAME_ADDRESS = '"address_key_l" = "address_key_r" AND "postcode_district_l" = "postcode_district_r"'


def _custom(condition: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(condition, label_for_charts=label, base_dialect_str=DIALECT)


def _name(column: str, other: str, key: str, other_key: str, phonetic: str) -> cl.CustomComparison:
    """A forename or surname: exact, transliteration key, swapped, fuzzy, phonetic, initial."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(tf_adjustment_column=column),
            # Mohammed / Muhammad / Mohd, Hussain / Hussein, Bill / William meet here
            cll.ExactMatchLevel(key).configure(
                label_for_charts=f"{key} exact", tf_adjustment_column=key
            ),
            # forename and surname written the other way round: compared on the keys, so that a
            # respelling on top of the swap still counts, and as written (a nickname's key is
            # its formal name's, which the same word as a surname does not get)
            _custom(
                f'"{key}_l" = "{other_key}_r" OR "{column}_l" = "{other}_r"',
                f"{column} swapped with {other}",
            ),
            cll.JaroWinklerLevel(column, 0.92),
            cll.ExactMatchLevel(phonetic).configure(label_for_charts=f"{phonetic} exact"),
            cll.JaroWinklerLevel(column, 0.8),
            _custom(
                f'substr("{column}_l", 1, 1) = substr("{column}_r", 1, 1)', f"{column} initial"
            ),
            cll.ElseLevel(),
        ],
    )


def _surname() -> cl.CustomComparison:
    comparison = _name("surname", "forename", "surname_key", "forename_key", "surname_phonetic")
    levels = list(comparison._comparison_levels)
    # compound surnames: 'ahmed khan' and 'khan' share a word
    levels.insert(4, cll.ArrayIntersectLevel("surname_tokens", 1))
    return cl.CustomComparison(output_column_name="surname", comparison_levels=levels)


def _date_of_birth() -> cl.CustomComparison:
    """Birth dates: exact, day and month swapped, one part wrong, year only, near in years."""
    parts = ("dob_year", "dob_month", "dob_day")
    same = {p: f'"{p}_l" = "{p}_r"' for p in parts}
    estimated = '"dob_year_l" IS NULL OR "dob_year_r" IS NULL'
    return cl.CustomComparison(
        output_column_name="date_of_birth",
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("dob"),
            _custom(
                f'{same["dob_year"]} AND "dob_month_l" = "dob_day_r" '
                'AND "dob_day_l" = "dob_month_r"',
                "day and month swapped",
            ),
            _custom(
                f'"dob_l" IS NOT NULL AND "dob_r" IS NOT NULL AND ('
                f"({same['dob_year']} AND {same['dob_month']}) OR "
                f"({same['dob_year']} AND {same['dob_day']}) OR "
                f"({same['dob_month']} AND {same['dob_day']}))",
                "one part of the date wrong",
            ),
            _custom(
                f'{same["dob_year"]} AND ("dob_l" IS NULL OR "dob_r" IS NULL)',
                "same year, day unknown on one side",
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
        ],
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


def _postcode() -> cl.CustomComparison:
    """Where a person lives: the same house (an address means little without its district:
    every town has a 12 High Street), the postcode's unit, sector, district."""
    return cl.CustomComparison(
        output_column_name="postcode",
        comparison_levels=[
            cll.NullLevel("postcode_district"),
            _custom(SAME_ADDRESS, "same address in the same postcode district"),
            cll.ExactMatchLevel("postcode"),
            cll.ExactMatchLevel("postcode_sector"),
            cll.ExactMatchLevel("postcode_district"),
            cll.ElseLevel(),
        ],
    )


def comparisons() -> list[Any]:
    """Every comparison of the model, in the order charts show them."""
    return [
        _name("forename", "surname", "forename_key", "surname_key", "forename_phonetic"),
        _surname(),
        _date_of_birth(),
        cl.CustomComparison(
            output_column_name="middle_names",
            comparison_levels=[
                cll.NullLevel("middle_names"),
                cll.ExactMatchLevel("middle_names"),
                cll.JaroWinklerLevel("middle_names", 0.9),
                cll.ElseLevel(),
            ],
        ),
        _aliases(),
        cl.ExactMatch("sex"),
        _postcode(),
        cl.ExactMatch("phone"),
        cl.ExactMatch("email"),
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


def prediction_blocking_rules() -> list[BlockingRuleCreator | dict[str, Any]]:
    """Rules whose union must compare almost every true match (measured by ``evaluate``).

    Rules on names also ask for birth years that could belong to one person: a pair further
    apart falls in the date of birth's 'else' level and could not match, and without the limit
    a common name makes a block that grows with the square of the population. Every rule joins
    on equal values (a condition on one side only, such as an unknown birth year, is applied
    before the join), so that its cost grows with the pairs it finds.
    """
    names = (_same("forename_key"), _same("surname_key"))
    surname_initial = (_same("surname_key"), _initial("forename"))
    forename_surname_start = (
        _same("forename_key"), _start("surname"),
        _same("sex"),
    )  # fmt: skip
    return [
        _rule(*names, _same("birth_year")),
        # records with names only (no birth date, no age), on either side
        _rule(*names, 'l."birth_year" IS NULL'),
        _rule(*names, 'r."birth_year" IS NULL'),
        # the year of birth mistyped
        _rule(*names, _same("dob_month"), _same("dob_day")),
        *_near_when_undated(5, *names),
        # a misspelt or different forename
        _rule(*surname_initial, _same("birth_year")),
        *_near_when_undated(2, *surname_initial),
        # both names misspelt, the birth date right
        block_on("dob", "substr(forename, 1, 1)"),
        block_on("dob", "postcode_district"),
        block_on("postcode", "substr(forename, 1, 1)"),
        block_on("phone"),
        block_on("email"),
        _rule(_same("forename_phonetic"), _same("surname_phonetic"), _same("birth_year")),
        # names written the other way round, one of them also misspelt
        _rule(_same("forename_key", "surname_key"), _same("surname_key", "forename_key"), _near(5)),
        _rule(
            _same("forename_key", "surname_key"),
            _same("birth_year"),
            _initial("surname", "forename"),
        ),  # fmt: skip
        _rule(
            _same("surname_key", "forename_key"),
            _same("birth_year"),
            _initial("forename", "surname"),
        ),  # fmt: skip
        # a misspelt surname on a record that knows only an age
        *_near_when_undated(5, *forename_surname_start),
        # the same address, any names (a swap with a misspelling, a change of name)
        _rule(_same("postcode"), _near(2)),
        # a misspelt name and a mistyped year of birth
        _rule(_same("forename_key"), _same("dob_month"), _same("dob_day"), _near(2)),
        _rule(_same("surname_key"), _same("dob_month"), _same("dob_day"), _near(2)),
        # a misspelt name on a record that knows nothing of its person's age
        *(
            _rule(_same("forename_key"), _start("surname"), f'{side}."birth_year" IS NULL')
            for side in ("l", "r")
        ),
        *(
            _rule(
                _same("surname_key"),
                _start("forename"),
                _same("sex"),
                f'{side}."birth_year" IS NULL',
            )
            for side in ("l", "r")
        ),
    ]


def blocking_rule_sql() -> list[str]:
    """The prediction blocking rules as DuckDB SQL conditions over ``l`` and ``r``."""
    return [
        rule.get_blocking_rule(DIALECT).blocking_rule_sql
        for rule in prediction_blocking_rules()
        if isinstance(rule, BlockingRuleCreator)
    ]


def training_blocking_rules() -> list[BlockingRuleCreator]:
    """EM sessions: each leaves free the comparisons the next one trains."""
    return [block_on("dob"), block_on("forename_key", "surname_key")]


def deterministic_rules() -> list[str | BlockingRuleCreator]:
    """Near-certain matches, for the prior (the share of pairs that match)."""
    return [block_on("forename_key", "surname_key", "dob")]


def settings(
    probability_two_random_records_match: float = 1e-5, max_iterations: int = 20
) -> SettingsCreator:
    """The Splink settings: dedupe over every source's records at once."""
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=prediction_blocking_rules(),
        probability_two_random_records_match=probability_two_random_records_match,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["source"],
        max_iterations=max_iterations,
    )
