"""What a workspace's ``[link]`` menu and its sources' ``dedupe`` change in the model.

The shipped model is what no choice gives (``ModelChoices()``); ``docs/linking.md`` lists the
menu. The model's functions (``casebridge/link/model.py``) take the choices; this module holds
them, the condition that keeps pairs within a source free of duplicates out of every blocking
rule, and the weights a workspace sets on identifiers and locations, applied to a trained model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlglot

# the comparisons of the model by their menu name (the name charts and match_pair give them),
# with the field some record must hold for each to be compared ("location" and "identifiers":
# any field of theirs)
COMPARISON_FIELDS = {
    "forename": "forename", "surname": "surname", "date_of_birth": "birth_year",
    "middle_names": "middle_names", "aliases": "alias_keys", "sex": "sex",
    "location": "location", "identifiers": "identifiers", "phone": "phone", "email": "email",
}  # fmt: skip
COMPARISON_NAMES = tuple(COMPARISON_FIELDS)
# a pair of records of one source is compared only where that source may hold duplicates:
# link_input's "dedupe" is the source's setting (both records of a pair of one source share it)
DEDUPE_CONDITION = '(l."source" <> r."source" OR l."dedupe")'
SIGNIFICANT_DIGITS = 10  # as train.floor_probabilities keeps m and u


@dataclass(frozen=True)
class ModelChoices:
    """The choices a workspace makes (the default of each: the shipped model).

    Attributes:
        comparisons_drop: comparisons left out, by menu name.
        blocking_drop: shipped prediction blocking rules left out, by name.
        blocking_add: rules added from the menu of extra rules, by name.
        identifier_weight: the match weight of an agreeing identifier, in place of the trained.
        location_weight: the match weight of the strongest agreeing location level, the other
            agreeing levels scaled with it.
        has_duplicate_free_source: some source is declared free of duplicates
            (``dedupe = false``), so every rule leaves pairs within such a source out.
    """

    comparisons_drop: frozenset[str] = frozenset()
    blocking_drop: frozenset[str] = frozenset()
    blocking_add: frozenset[str] = frozenset()
    identifier_weight: float | None = None
    location_weight: float | None = None
    has_duplicate_free_source: bool = False


SHIPPED = ModelChoices()  # no choice made: the model casebridge ships


def within_dedupe_sources(rule_sql: str, dialect: str = "duckdb") -> str:
    """A blocking rule (SQL over ``l`` and ``r``, in ``dialect``: a model trained on Spark is
    saved with its rules in Spark's) that leaves out every pair of records of one source
    declared free of duplicates; a rule that does so already is given back as it is."""
    condition = as_dialect(DEDUPE_CONDITION, "duckdb", dialect)
    if condition in rule_sql:
        return rule_sql
    return f"({rule_sql}) AND {condition}"


def as_dialect(sql: str, read: str, write: str) -> str:
    """A SQL expression written for ``read`` (a Splink dialect name) rewritten for ``write``."""
    if read == write:
        return sql
    return str(sqlglot.transpile(sql, read=read, write=write)[0])


def apply_weights(model: dict[str, Any], choices: ModelChoices) -> dict[str, Any]:
    """A trained model (Splink's JSON) with the workspace's identifier and location weights.

    A level's match weight is log2(m / u); a weight is set by giving the level the u that
    makes it so (u = m / 2 ** weight, m as trained). ``identifier_weight`` is the weight of
    "an identifier agrees". ``location_weight`` is the weight of the strongest location level
    (the same address in the same area); every other location level that counts for a match
    (a positive trained weight) is scaled by the same factor, so that their order stays. The
    disagreeing ("all other") and null levels keep their trained weights: u then no longer
    sums to one over a comparison's levels, which Splink does not ask of a trained model."""
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        agreeing = levels[:-1]  # the last is "all other comparisons"
        if (
            comparison["output_column_name"] == "identifiers"
            and choices.identifier_weight is not None
        ):
            for level in agreeing:
                _set_weight(level, choices.identifier_weight)
        if comparison["output_column_name"] == "location" and choices.location_weight is not None:
            _scale_weights(agreeing, choices.location_weight)
    return model


def _weight(level: dict[str, Any]) -> float:
    return math.log2(float(level["m_probability"]) / float(level["u_probability"]))


def _set_weight(level: dict[str, Any], weight: float) -> None:
    u = float(level["m_probability"]) / 2**weight
    level["u_probability"] = float(f"{u:.{SIGNIFICANT_DIGITS}g}")


def _scale_weights(agreeing: list[dict[str, Any]], weight: float) -> None:
    """The first level weighs ``weight``; the others with a positive weight are scaled alike."""
    strongest = _weight(agreeing[0])
    factor = weight / strongest if strongest > 0 else None
    for index, level in enumerate(agreeing):
        if index == 0:
            _set_weight(level, weight)
        elif factor is not None and _weight(level) > 0:
            _set_weight(level, _weight(level) * factor)
