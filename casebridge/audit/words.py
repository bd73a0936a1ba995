"""Plain words for the linkage model's terms, for readers who have never met Splink.

A comparison level's label (``Jaro-Winkler distance of surname >= 0.92``) is rewritten by the
patterns of ``assets/plain_words.csv`` (``surname spelt almost the same (Jaro-Winkler similarity
≥ 0.92)``), keeping the term in brackets; :data:`GLOSSARY` says what each term means.
"""

from __future__ import annotations

import csv
import math
import re
from functools import cache
from pathlib import Path

PATTERNS_FILE = Path(__file__).parent / "assets" / "plain_words.csv"

GLOSSARY = (
    (
        "weight of evidence",
        "match weight",
        "how far one comparison moves the odds that two records are one person: +1 doubles "
        "the odds, −1 halves them, 0 leaves them as they were. Weights add up.",
    ),
    (
        "how many times more likely",
        "Bayes factor, m/u",
        "how many times more often two records of one person agree this way (m probability) "
        "than two records of different people do (u probability); the weight of evidence is "
        "its logarithm to base 2.",
    ),
    (
        "starting odds",
        "prior",
        "how likely two records picked at random are to be one person, before any field is "
        "compared; every weight of evidence is added to it.",
    ),
    (
        "chance the two records are one person",
        "match probability",
        "the starting odds moved by every weight of evidence, written as a probability.",
    ),
    (
        "how the fields compare",
        "comparison level",
        "for each field, the first of its levels that is true of the pair (the same; spelt "
        "almost the same; …; they disagree).",
    ),
)


@cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """The rewrites of ``assets/plain_words.csv``, in order."""
    with PATTERNS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return [(re.compile(row["pattern"]), row["plain"]) for row in rows]


def plain_level(label: str) -> str:
    """A comparison level's label in plain words, its Splink term in brackets.

    Example:
        >>> plain_level("Jaro-Winkler distance of surname >= 0.92")
        'surname spelt almost the same (Jaro-Winkler similarity ≥ 0.92)'
    """
    for pattern, plain in _patterns():
        if pattern.fullmatch(label):
            label = pattern.sub(plain, label)
            break
    return plain_name(label)


def plain_name(name: str) -> str:
    """A column or comparison name as words (``date_of_birth``: ``date of birth``)."""
    return name.replace("_", " ")


def probability(weight: float) -> str:
    """The match probability a total weight of evidence gives, to four places, never shown
    as a certainty it is not."""
    value = 1 / (1 + 2 ** -min(max(weight, -60.0), 60.0))
    if value > 0.9999:
        return "more than 0.9999"
    if value < 0.0001:
        return "less than 0.0001"
    return f"{value:.4f}"


def prior_weight(prior: float) -> float:
    """The starting odds (the prior probability that two random records match) as a weight."""
    return math.log2(prior / (1 - prior))
