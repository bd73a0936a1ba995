"""Blocking rules that find too few matches for their pairs are left out, as the data shows.

A rule of a fixed selectivity (a surname key, a forename initial and a birth year; a birth date
and a surname initial; names where one side has no birth year) finds pairs with the square of
the records and matches with the records: on 1,000,000 synthetic records nine of the rules
gave 6.0 of the 12.7 million pairs scored, and fewer than one match in a thousand of them. How
many matches a rule adds is not known before its pairs are scored, and differs between
workspaces, so it is measured on each run, after blocking and before scoring:

1. each rule's new pairs (those no earlier rule found: the pairs it adds) are counted;
2. from each rule that adds at least ``CANDIDATE_PAIRS``, about ``SAMPLE_PAIRS`` of its pairs
   are drawn (a fixed pseudo-random draw on the two record numbers: the same on every run of
   the same records) and scored with the trained model;
3. the matches the rule adds are estimated as the sum of the match probabilities of its sampled
   pairs (those scored at or above the review floor: a pair below it is never kept), scaled to
   all its pairs;
4. a rule whose estimate is below ``MIN_YIELD`` matches per million of its pairs is left out:
   its pairs are not scored. The sampled pairs of the rules kept are not scored twice.

The rules left out, their pairs and the matches they were estimated to hold (the recall that
leaving them out is estimated to cost) are reported by ``casebridge link``. A rule that adds
fewer than ``CANDIDATE_PAIRS`` is always kept: scoring a sample would cost a large share of
what leaving it out saves. No rule is named here: which rules go is the data's answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from casebridge.engine import Engine
from casebridge.link.score import score

MIN_YIELD = 1_000.0  # expected matches per million pairs: one match per thousand pairs scored
SAMPLE_PAIRS = 10_000  # pairs of a rule scored to estimate what it adds
CANDIDATE_PAIRS = 4 * SAMPLE_PAIRS  # a rule adding fewer pairs is scored whole
SAMPLE = "cb_yield_sample"  # the drawn pairs
SAMPLE_SCORED = "cb_yield_sample_scored"
KEPT = "cb_kept_pairs"  # the pairs of the rules kept, less those drawn
REST = "cb_rest_scored"
SCORED = "cb_scored_pairs"  # both scored tables, less the drawn pairs of rules left out
# the draw: a pair is sampled when this hash of its record numbers falls below the rule's share
# of HASH_RANGE (integer arithmetic, the same on every engine)
HASH_RANGE = 1_000_003
_PAIR_HASH = f"((number_l * 2654435761 + number_r * 2246822519) % {HASH_RANGE})"


@dataclass(frozen=True)
class RuleYield:
    """What one prediction blocking rule adds, and whether its pairs were scored.

    Attributes:
        position: the rule's place among the model's rules (Splink's ``match_key``).
        name: the rule's name in the ``[link]`` menu (``rule N`` if the model's rule is not
            one of the menu's).
        pairs: the pairs it adds to the rules before it.
        sampled: how many of them were scored to estimate its yield (0: not estimated).
        expected_matches: the matches among its pairs, estimated from the sample.
        kept: whether its pairs were scored.
    """

    position: int
    name: str
    pairs: int
    sampled: int = 0
    expected_matches: float | None = None
    kept: bool = True

    @property
    def per_million(self) -> float | None:
        """Estimated matches per million of the rule's pairs."""
        if self.expected_matches is None or self.pairs == 0:
            return None
        return self.expected_matches / self.pairs * 1e6


def _share(pairs: int) -> int:
    """The hash threshold below which a rule of ``pairs`` pairs has about SAMPLE_PAIRS drawn."""
    return min(HASH_RANGE, math.ceil(HASH_RANGE * SAMPLE_PAIRS / pairs))


def _drawn(shares: dict[int, int]) -> str:
    """SQL over (match_key, number_l, number_r): the pair is in its rule's sample."""
    cases = " ".join(f"WHEN {rule} THEN {share}" for rule, share in sorted(shares.items()))
    return f"{_PAIR_HASH} < CASE match_key {cases} ELSE -1 END"


def score_pruned(
    engine: Engine, sql: str, pairs: str, floor: float | None, names: list[str]
) -> tuple[str, list[RuleYield]]:
    """Score the pairs of ``pairs`` (match_key, number_l, number_r) at or above ``floor``,
    leaving out the rules that add too few matches (see the module's docstring); return the
    name of a view of the scored pairs (as Splink's ``predict`` gives them) and what each rule
    added. ``sql`` scores pairs (``link/score.py``); ``names`` are the rules' names by
    position. Drop what it made with :func:`drop`."""
    counts = dict(engine.query(f"SELECT match_key, count(*) FROM {pairs} GROUP BY match_key"))
    yields = {int(k): RuleYield(int(k), names[int(k)], int(n)) for k, n in counts.items()}
    shares = {rule: _share(y.pairs) for rule, y in yields.items() if y.pairs >= CANDIDATE_PAIRS}
    if not shares:
        score(engine, sql, pairs, REST, floor)
        engine.execute(f"CREATE OR REPLACE TEMP VIEW {SCORED} AS SELECT * FROM {REST}")
        return SCORED, sorted(yields.values(), key=lambda y: y.position)
    drawn = _drawn(shares)
    engine.execute(f"CREATE OR REPLACE TEMP VIEW {SAMPLE} AS SELECT * FROM {pairs} WHERE {drawn}")
    score(engine, sql, SAMPLE, SAMPLE_SCORED, floor)
    yields |= {y.position: y for y in _judged(engine, [yields[rule] for rule in shares])}
    dropped = sorted(rule for rule in shares if not yields[rule].kept)
    reused = sorted(rule for rule in shares if yields[rule].kept)
    left_out = f"match_key NOT IN ({', '.join(map(str, dropped))})" if dropped else "true"
    engine.execute(
        f"CREATE OR REPLACE TEMP VIEW {KEPT} AS SELECT * FROM {pairs} "
        f"WHERE {left_out} AND NOT ({drawn})"
    )
    score(engine, sql, KEPT, REST, floor)
    kept_sample = f"match_key IN ({', '.join(map(str, reused))})" if reused else "false"
    engine.execute(
        f"""CREATE OR REPLACE TEMP VIEW {SCORED} AS
        SELECT * FROM {REST}
        UNION ALL
        SELECT * FROM {SAMPLE_SCORED} WHERE {kept_sample}"""
    )
    return SCORED, sorted(yields.values(), key=lambda y: y.position)


def _judged(engine: Engine, sampled_rules: list[RuleYield]) -> list[RuleYield]:
    """Each of ``sampled_rules`` with what its drawn pairs (``SAMPLE``, scored into
    ``SAMPLE_SCORED``) say of it: the matches it holds, and whether it is kept."""
    drawn = dict(engine.query(f"SELECT match_key, count(*) FROM {SAMPLE} GROUP BY match_key"))
    found = dict(
        engine.query(
            f"SELECT match_key, sum(match_probability) FROM {SAMPLE_SCORED} GROUP BY match_key"
        )
    )
    judged = []
    for rule in sampled_rules:
        sampled = int(drawn.get(rule.position, 0))
        if sampled:
            expected = float(found.get(rule.position, 0.0)) * rule.pairs / sampled
            kept = expected / rule.pairs * 1e6 >= MIN_YIELD
            rule = replace(rule, sampled=sampled, expected_matches=expected, kept=kept)
        judged.append(rule)
    return judged


def drop(engine: Engine) -> None:
    """Drop what :func:`score_pruned` made."""
    for view in (SCORED, KEPT, SAMPLE):
        engine.execute(f"DROP VIEW IF EXISTS {view}")
    for table in (REST, SAMPLE_SCORED):
        engine.execute(f"DROP TABLE IF EXISTS {table}")
