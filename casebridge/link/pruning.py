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
from dataclasses import dataclass

from splink import Linker

from casebridge.engine import Engine
from casebridge.link.score import score

MIN_YIELD = 1_000.0  # expected matches per million pairs: one match per thousand pairs scored
SAMPLE_PAIRS = 10_000  # pairs of a rule scored to estimate what it adds
CANDIDATE_PAIRS = 4 * SAMPLE_PAIRS  # a rule adding fewer pairs is scored whole
SAMPLE = "cb_yield_sample"
KEPT = "cb_kept_pairs"
SCORED = "cb_scored_pairs"
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
    engine: Engine, linker: Linker, pairs: str, floor: float | None, names: list[str]
) -> tuple[str, list[RuleYield]]:
    """Score the pairs of ``pairs`` (match_key, number_l, number_r) at or above ``floor``,
    leaving out the rules that add too few matches (see the module's docstring); return the
    name of a view of the scored pairs (as Splink's ``predict`` gives them) and what each rule
    added. ``names`` are the rules' names by position. Drop the tables with :func:`drop`."""
    counts = dict(engine.query(f"SELECT match_key, count(*) FROM {pairs} GROUP BY match_key"))
    shares = {int(rule): _share(int(n)) for rule, n in counts.items() if int(n) >= CANDIDATE_PAIRS}
    yields = {
        int(rule): RuleYield(int(rule), names[int(rule)], int(n)) for rule, n in counts.items()
    }
    if not shares:
        scored = score(linker, pairs, floor)
        engine.execute(
            f'CREATE OR REPLACE TEMP VIEW {SCORED} AS SELECT * FROM "{scored.physical_name}"'
        )
        return SCORED, sorted(yields.values(), key=lambda y: y.position)
    drawn = _drawn(shares)
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {SAMPLE} AS SELECT * FROM {pairs} WHERE {drawn}")
    sample = score(linker, SAMPLE, floor)
    sampled = dict(engine.query(f"SELECT match_key, count(*) FROM {SAMPLE} GROUP BY match_key"))
    found = dict(
        engine.query(
            f'SELECT match_key, sum(match_probability) FROM "{sample.physical_name}" '
            "GROUP BY match_key"
        )
    )
    for rule in shares:
        drawn_pairs = int(sampled.get(rule, 0))
        whole = yields[rule].pairs
        expected = float(found.get(rule, 0.0)) * whole / drawn_pairs if drawn_pairs else None
        kept = expected is None or expected / whole * 1e6 >= MIN_YIELD
        yields[rule] = RuleYield(rule, yields[rule].name, whole, drawn_pairs, expected, kept)
    dropped = sorted(rule for rule in shares if not yields[rule].kept)
    estimated = sorted(rule for rule in shares if yields[rule].kept)
    left_out = f"match_key NOT IN ({', '.join(map(str, dropped))})" if dropped else "true"
    engine.execute(
        f"CREATE OR REPLACE TEMP VIEW {KEPT} AS SELECT * FROM {pairs} "
        f"WHERE {left_out} AND NOT ({drawn})"
    )
    rest = score(linker, KEPT, floor)
    reused = f"match_key IN ({', '.join(map(str, estimated))})" if estimated else "false"
    engine.execute(
        f"""CREATE OR REPLACE TEMP VIEW {SCORED} AS
        SELECT * FROM "{rest.physical_name}"
        UNION ALL
        SELECT * FROM "{sample.physical_name}" WHERE {reused}"""
    )
    return SCORED, sorted(yields.values(), key=lambda y: y.position)


def drop(engine: Engine) -> None:
    """Drop what :func:`score_pruned` made (Splink's scored tables go with its linker's)."""
    engine.execute(f"DROP VIEW IF EXISTS {SCORED}")
    engine.execute(f"DROP VIEW IF EXISTS {KEPT}")
    engine.execute(f"DROP TABLE IF EXISTS {SAMPLE}")
