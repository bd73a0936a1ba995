"""Evidence from the company records keep: two records tied to the same third person.

A duty report names a man and the child he was seen with; a force's crime record names a man
of the same name as the suspect in an offence against that same child. Names and an age alone
leave the pair in doubt; both records being tied, through their events, to the one child is
strong evidence that they are the same man. After a first clustering, every scored pair learns
whether its two records share such a tie, and the model gains one more comparison, estimated
without labels like the others:

- m: the share of pairs inside first-pass persons whose records share a tie;
- u: the share of all other record pairs that share one.

Its match weight, log2(m / u) when a tie is shared and log2((1 - m) / (1 - u)) when not, is
added to each scored pair's weight before the final clustering, and shown in explanations.
Only ties between the people an event is about count (roles in ``TIE_ROLES``): a
professional who reports many cases ties nothing together. Two records named on one event
gain nothing: two men named on one crime are two men, however alike their names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from casebridge.engine import Engine

TIE_ROLES = ("victim", "suspect", "offender", "subject", "person_of_concern")
WEIGHT_COLUMN = "mw_shared_tie"
LEVEL_COLUMN = "gamma_shared_tie"
M_CEILING = 0.999  # never certain that a true match shares a tie: not sharing is not proof


@dataclass(frozen=True)
class TieEvidence:
    """The estimated parameters of the shared-tie comparison."""

    m: float
    u: float

    @property
    def agree_weight(self) -> float:
        return math.log2(self.m / self.u)

    @property
    def disagree_weight(self) -> float:
        return math.log2((1 - self.m) / (1 - self.u))


def _roles() -> str:
    return ", ".join(f"'{role}'" for role in TIE_ROLES)


def estimate_ties(engine: Engine, first_pass: str, pairs: str = "match_pair") -> TieEvidence | None:
    """Mark each pair of ``pairs`` (scored pairs, ``match_pair``'s shape) that shares a tie, and
    estimate m and u.

    ``first_pass`` names a table of (record_id, cluster_id) from a first clustering. Returns
    None (and marks nothing) when there is too little to estimate from.
    """
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_ties AS
        SELECT DISTINCT i.record_id, f.cluster_id AS tied_to
        FROM involvement i
        JOIN involvement j ON j.event_id = i.event_id AND j.record_id <> i.record_id
        JOIN {first_pass} f ON f.record_id = j.record_id
        WHERE i.role IN ({_roles()}) AND j.role IN ({_roles()})"""
    )
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_shared AS
        SELECT DISTINCT m.record_l, m.record_r, fl.cluster_id = fr.cluster_id AS same_person
        FROM {pairs} m
        JOIN {first_pass} fl ON fl.record_id = m.record_l
        JOIN {first_pass} fr ON fr.record_id = m.record_r
        JOIN cb_ties a ON a.record_id = m.record_l
        JOIN cb_ties b ON b.record_id = m.record_r AND b.tied_to = a.tied_to
        WHERE a.tied_to <> fl.cluster_id AND a.tied_to <> fr.cluster_id
          AND NOT EXISTS (
            SELECT 1 FROM involvement x JOIN involvement y ON y.event_id = x.event_id
            WHERE x.record_id = m.record_l AND y.record_id = m.record_r)"""
    )
    same_pairs = int(
        engine.scalar(
            f"""SELECT count(*) FROM {pairs} m
            JOIN {first_pass} fl ON fl.record_id = m.record_l
            JOIN {first_pass} fr ON fr.record_id = m.record_r
            WHERE fl.cluster_id = fr.cluster_id"""
        )
    )
    shared_same = int(engine.scalar("SELECT count(*) FROM cb_shared WHERE same_person"))
    # every pair of records tied to one person, counted once per person they share
    tied_pairs = int(
        engine.scalar(
            "SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM "
            "(SELECT tied_to, count(*) AS n FROM cb_ties GROUP BY tied_to)"
        )
    )
    records = int(engine.scalar(f"SELECT count(*) FROM {first_pass}"))
    other_pairs = records * (records - 1) / 2 - same_pairs
    if same_pairs == 0 or shared_same == 0 or other_pairs <= 0:
        return None
    u = max(tied_pairs - shared_same, 1) / other_pairs
    m = min(shared_same / same_pairs, M_CEILING)
    if m <= u:
        return None
    return TieEvidence(m=m, u=u)


def apply_ties(engine: Engine, evidence: TieEvidence, pairs: str = "match_pair") -> None:
    """Write ``match_pair``: every scored pair of ``pairs`` (``match_pair`` itself, or scored
    pairs of its shape) with the shared-tie weight added and its probability recomputed."""
    kept = [c for c in engine.columns(pairs) if c not in ("match_weight", "match_probability")]
    engine.execute(
        f"""CREATE OR REPLACE TABLE match_pair AS
        SELECT {", ".join(f'"{c}"' for c in kept)},
            match_weight + cb_tie AS match_weight,
            1.0 / (1.0 + pow(2.0, -(match_weight + cb_tie))) AS match_probability,
            cb_tie_level AS {LEVEL_COLUMN}, cb_tie AS {WEIGHT_COLUMN}
        FROM (SELECT m.*, CASE WHEN s.record_l IS NULL THEN 0 ELSE 1 END AS cb_tie_level,
                CASE WHEN s.record_l IS NULL THEN ? ELSE ? END AS cb_tie
            FROM {pairs} m
            LEFT JOIN (SELECT DISTINCT record_l, record_r FROM cb_shared) s
              ON s.record_l = m.record_l AND s.record_r = m.record_r)""",
        [evidence.disagree_weight, evidence.agree_weight],
    )
