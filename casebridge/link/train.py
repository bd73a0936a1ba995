"""Train the model without labels, predict pairs, and cluster them: Splink's work.

Training is deterministic for a seed: the prior from near-certain matches, u by random
sampling with that seed, then m by expectation maximisation over two blocking rules. A
workspace's choices (``casebridge/link/choices.py``) shape what is trained, and set the
weights of identifiers and locations afterwards.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from splink import Linker, SettingsCreator
from splink.internals.database_api import DatabaseAPISubClass

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.link.blocking import blocked_pairs, rule_dialect, rules_of
from casebridge.link.choices import SHIPPED, ModelChoices, apply_weights, within_dedupe_sources
from casebridge.link.frequencies import register_frequencies_given_forename
from casebridge.link.model import (
    deterministic_rules,
    names_of,
    settings,
    training_blocking_rules,
)
from casebridge.link.prepare import LINK_INPUT, held_fields
from casebridge.link.pruning import RuleYield, score_pruned
from casebridge.link.pruning import drop as drop_pruning

logger = logging.getLogger(__name__)
PRIOR_RECALL = 0.7  # share of true matches the deterministic rules are taken to find
U_SAMPLE_PAIRS = 5e5
M_FLOOR = 1e-3
U_UNSEEN = 1e-6
SIGNIFICANT_DIGITS = 10
TRAINING_RECORDS = 60_000  # the smallest training sample
TRAINING_SHARE = 0.1  # a larger workspace trains on this share of its records
TRAINING_INPUT = "cb_training_input"
EM_ITERATIONS = (20, 5, 2)  # each later one only if the one before underflows (see train)


@dataclass
class Trained:
    """A trained linker over the workspace's ``link_input``."""

    linker: Linker
    db_api: DatabaseAPISubClass


def make_linker(
    engine: Engine,
    model: Path | None = None,
    table_name: str = LINK_INPUT,
    iterations: int = 20,
    choices: ModelChoices = SHIPPED,
) -> Trained:
    """A linker over ``link_input`` (or another table of its shape), with settings from a saved
    model if one is given (its rules leaving out pairs within a source free of duplicates, if
    the workspace has one), else from the workspace's ``choices``."""
    db_api = engine.splink_api()
    table = db_api.register(table_name)
    chosen: dict[str, Any] | SettingsCreator = (
        honour_dedupe(json.loads(model.read_text(encoding="utf-8")), choices)
        if model
        else settings(max_iterations=iterations, fields=held_fields(engine), choices=choices)
    )
    # a saved model (perhaps frozen in another workspace) is checked against the input; the
    # settings built here name only the columns link_input holds, and the tests check them
    linker = Linker(table, chosen, log_level=logging.ERROR, validate_settings=model is not None)
    register_frequencies_given_forename(engine, linker, db_api, table_name)
    return Trained(linker, db_api)


def honour_dedupe(model: dict[str, Any], choices: ModelChoices) -> dict[str, Any]:
    """A saved model whose prediction rules leave out every pair within a source free of
    duplicates, where the workspace has one: a model saved before a source was so declared,
    or frozen in another workspace, gains the condition (it reads ``link_input``'s
    ``dedupe``, so it follows the sources' settings as they are now)."""
    if choices.has_duplicate_free_source:
        for rule in model["blocking_rules_to_generate_predictions"]:
            rule["blocking_rule"] = within_dedupe_sources(
                rule["blocking_rule"], rule_dialect(model, rule)
            )
    return model


def train(engine: Engine, seed: int, choices: ModelChoices = SHIPPED) -> Trained:
    """Estimate the prior, u and m without labels; deterministic given ``seed``.

    m is then floored: where training saw true matches never disagree on a field (a clean
    source, a small sample), a disagreement would otherwise count as near-proof of a
    non-match, and one miskeyed sex or changed phone number could keep a person apart.

    Above TRAINING_RECORDS records, training runs on a random sample (chosen by the md5 of
    each record id and the seed) of TRAINING_RECORDS records, or of TRAINING_SHARE of them if
    that is more, so that a large workspace keeps enough matches in its sample to learn rare
    levels from. Sampling records leaves m and u (which describe pairs) and the prior
    (matching pairs over all pairs) as they are, in expectation.

    The workspace's ``choices`` drop comparisons and drop or add prediction rules before
    training, and set the identifier and location weights after it.
    """
    records = int(engine.scalar(f"SELECT count(*) FROM {LINK_INPUT}"))
    sample = max(TRAINING_RECORDS, int(records * TRAINING_SHARE))
    sampled = records > sample
    if sampled:
        # md5, not hash(): its values are the same on every engine and version
        engine.execute(
            f"CREATE OR REPLACE TEMP TABLE {TRAINING_INPUT} AS SELECT * FROM {LINK_INPUT} "
            f"ORDER BY md5(unique_id || ?), unique_id LIMIT {sample}",
            [f"~{seed}"],
        )
    table = TRAINING_INPUT if sampled else LINK_INPUT
    try:
        model = apply_weights(_estimate_with_fallback(engine, table, seed, choices), choices)
    finally:
        engine.execute(f"DROP TABLE IF EXISTS {TRAINING_INPUT}")
    # a fresh connection wrapper: Splink's cache of the sample's tables must not serve prediction
    db_api = engine.splink_api()
    # the model was checked when training began: Splink need not check it again
    linker = Linker(
        db_api.register(LINK_INPUT), model, log_level=logging.ERROR, validate_settings=False
    )
    return Trained(linker, db_api)


def _estimate_with_fallback(
    engine: Engine, table: str, seed: int, choices: ModelChoices
) -> dict[str, Any]:
    for iterations in EM_ITERATIONS:
        try:
            return _estimate(engine, table, seed, iterations, choices)
        except ValueError as exc:
            # on a small workspace EM can drive a rarely seen level's m below what a float
            # holds, and Splink refuses it: fewer iterations stop short of that
            if "minimum allowed value" not in str(exc) or iterations == EM_ITERATIONS[-1]:
                raise
            logger.info("EM underflowed after up to %d iterations; retrying with fewer", iterations)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _estimate(
    engine: Engine, table: str, seed: int, iterations: int, choices: ModelChoices
) -> dict[str, Any]:
    """One training over ``table``: the prior, u, then EM; the model floored, as Splink JSON.

    Where a source is free of duplicates, the prior's and EM's rules leave out the pairs within
    it, and the prior is taken over the pairs that may be compared; u is sampled over every
    pair (Splink's random sampling takes no condition; pairs within such a source are
    non-matches as much as any other pair)."""
    trained = make_linker(engine, table_name=table, iterations=iterations, choices=choices)
    training = trained.linker.training
    try:
        training.estimate_probability_two_random_records_match(
            deterministic_rules(choices), recall=PRIOR_RECALL
        )
        training.estimate_u_using_random_sampling(
            max_pairs=U_SAMPLE_PAIRS, seed=seed, min_count_per_level=None, num_chunks=1
        )
        # EM's iterations leave the term frequencies out: each then reads the counts of each
        # pattern of levels, not every blocked pair (docs/linking.md, on training)
        for rule in training_blocking_rules(choices):
            training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        model = trained.linker.misc.save_model_to_json(None)
        if choices.has_duplicate_free_source:
            model["probability_two_random_records_match"] /= _comparable_share(engine, table)
        return floor_probabilities(model)
    finally:
        trained.linker.table_management.delete_tables_created_by_splink_from_db()  # type: ignore[no-untyped-call]


def _comparable_share(engine: Engine, table: str) -> float:
    """The share of all pairs of ``table``'s records that may be compared: all less those
    within a source free of duplicates (Splink's prior counts all pairs)."""
    sizes = engine.query(f"SELECT count(*), bool_or(dedupe) FROM {table} GROUP BY source")
    records = sum(int(count) for count, _ in sizes)
    within = sum(int(count) * (int(count) - 1) // 2 for count, repeats in sizes if not repeats)
    every = records * (records - 1) // 2
    if every == within:
        raise UsageError(
            "nothing to link: every record is in one source declared free of duplicates "
            "(dedupe = false)"
        )
    return (every - within) / every


def floor_probabilities(model: dict[str, Any]) -> dict[str, Any]:
    """The model with every level's m at least M_FLOOR (renormalised per comparison), and a u
    that sampling never met set to U_UNSEEN rather than left to Splink's default (for a field
    sampling never saw on both sides, the "all other" level's u is the rest: nearly 1).

    u is not raised otherwise: a small u is what makes agreement on a rare value evidence.

    Every m and u is kept to SIGNIFICANT_DIGITS: DuckDB sums in parallel, and the last bits of
    a float sum depend on the order its parts arrive in, so that without rounding two trainings
    with one seed could differ in the sixteenth digit.
    """
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        raised = [max(float(lv.get("m_probability") or 0.0), M_FLOOR) for lv in levels]
        for level, value in zip(levels, raised, strict=True):
            level["m_probability"] = value / sum(raised)
        *agreeing, other = levels
        if not any(lv.get("u_probability") for lv in agreeing):
            # sampling met no pair with the field on both sides (a rare field such as email):
            # agreement is taken as very rare, and disagreement as what almost every pair does
            for level in agreeing:
                level["u_probability"] = U_UNSEEN
            other["u_probability"] = 1 - U_UNSEEN * len(agreeing)
        for level in levels:
            if not level.get("u_probability"):
                level["u_probability"] = U_UNSEEN
            for key in ("m_probability", "u_probability"):
                level[key] = float(f"{level[key]:.{SIGNIFICANT_DIGITS}g}")
    return model


@contextmanager
def predicted(
    engine: Engine, trained: Trained, floor: float, sql: str
) -> Iterator[tuple[str, list[RuleYield]]]:
    """Every blocked pair scored with ``sql`` (``link/score.py``'s ``prepare_scoring``),
    keeping those with match probability at or above ``floor``, less the pairs of the rules
    that add too few matches (``link/pruning.py``): the name of the scored table, which lasts
    as long as the ``with`` block, and what each rule added. The pairs are the union of the
    model's rules, computed by ``link/blocking.py``."""
    rules = rules_of(trained.linker.misc.save_model_to_json(None))
    pairs = blocked_pairs(engine, rules)
    try:
        yield score_pruned(engine, sql, pairs, floor, names_of(rules))
    finally:
        drop_pruning(engine)
        engine.execute(f"DROP TABLE IF EXISTS {pairs}")


def save_model(trained: Trained, path: Path) -> None:
    """Write the trained model as Splink's JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    trained.linker.misc.save_model_to_json(str(path), overwrite=True)
