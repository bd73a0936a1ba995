"""The linkage result in figures: records per person, persons known to one agency or several
(an UpSet-style overlap of agencies), persons that break linkage's constraints, and the
uncertain band of scored pairs with how much of it analysts have judged."""

from __future__ import annotations

import polars as pl

from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.link.constraints import count_breaches, model_links_sql

BAND_BINS = 5


def linkage_overview(engine: Engine, settings: AuditSettings, linked: bool) -> pl.DataFrame:
    """Headline counts: records, persons, persons with several records or agencies, persons
    that break linkage's constraints, pairs scored, pairs in the review band and judged."""
    person = engine.query(
        """SELECT count(*), count(DISTINCT person_id),
            (SELECT count(*) FROM audit_person WHERE records > 1),
            (SELECT count(*) FROM (SELECT r.person_id FROM audit_record r
                JOIN source s ON s.source = r.source
                GROUP BY r.person_id HAVING count(DISTINCT s.agency) > 1))
        FROM audit_record"""
    )[0]
    measures = {
        "person records": person[0],
        "persons": person[1],
        "persons with several records": person[2],
        "persons known to several agencies": person[3],
    }
    if linked:
        # should be none: link keeps such pairs apart unless an analyst judged them the same
        direct = model_links_sql(engine, settings.link_threshold)
        breaches = count_breaches(
            engine, "(SELECT record_id, person_id AS cluster_id FROM audit_record)", direct
        )
        measures |= {
            "persons holding two suspects (or a suspect and a victim) of one event": (
                breaches.one_event
            ),
            "persons holding conflicting birth dates or ages, not judged the same": (
                breaches.birth_conflict
            ),
        }
    if linked and engine.table_exists("match_pair"):
        band = _band_counts(engine, settings)
        measures |= {
            "pairs scored (kept for review and explanation)": band[0],
            "pairs in the review band": band[1],
            "pairs in the review band judged by an analyst": band[2],
            "judgements recorded": band[3],
        }
    return pl.DataFrame(
        {"measure": list(measures), "value": [int(v) for v in measures.values()]},
        schema={"measure": pl.String, "value": pl.Int64},
    )


def _judged_sql() -> str:
    """The latest judgement of each pair, its records in order."""
    return """SELECT record_l, record_r, verdict FROM (
        SELECT least(record_l, record_r) AS record_l, greatest(record_l, record_r) AS record_r,
            verdict, row_number() OVER (PARTITION BY least(record_l, record_r),
                greatest(record_l, record_r) ORDER BY judged_at DESC) AS rank
        FROM match_judgement) WHERE rank = 1"""


def _band_counts(engine: Engine, settings: AuditSettings) -> tuple[int, int, int, int]:
    judged = (
        _judged_sql()
        if engine.table_exists("match_judgement")
        else ("SELECT NULL AS record_l, NULL AS record_r, NULL AS verdict WHERE false")
    )
    row = engine.query(
        f"""SELECT count(*),
            count(*) FILTER (WHERE m.match_probability BETWEEN ? AND ?),
            count(*) FILTER (WHERE m.match_probability BETWEEN ? AND ? AND j.verdict IS NOT NULL),
            (SELECT count(*) FROM ({judged}))
        FROM match_pair m LEFT JOIN ({judged}) j
            ON j.record_l = least(m.record_l, m.record_r)
            AND j.record_r = greatest(m.record_l, m.record_r)""",
        [settings.review_low, settings.review_high] * 2,
    )[0]
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def records_per_person(engine: Engine) -> pl.DataFrame:
    """How many persons hold 1, 2, 3, 4 and 5 or more records."""
    return engine.frame(
        """SELECT CASE WHEN records >= 5 THEN '5+' ELSE CAST(records AS VARCHAR) END AS records,
            count(*) AS persons
        FROM audit_person GROUP BY 1 ORDER BY 1"""
    )


def records_of_persons_with_many(engine: Engine, many: int = 5) -> int:
    """The records held by persons with ``many`` records or more."""
    [(held,)] = engine.query(
        "SELECT coalesce(sum(records), 0) FROM audit_person WHERE records >= ?", [many]
    )
    return int(held)


def agency_overlap(engine: Engine) -> pl.DataFrame:
    """Persons per combination of agencies that hold a record of them (UpSet-style)."""
    return engine.frame(
        """SELECT array_to_string(agencies, ' + ') AS agencies, agency_count,
            count(*) AS persons
        FROM (SELECT r.person_id, list_sort(list(DISTINCT s.agency)) AS agencies,
                count(DISTINCT s.agency) AS agency_count
              FROM audit_record r JOIN source s ON s.source = r.source GROUP BY r.person_id)
        GROUP BY agencies, agency_count ORDER BY persons DESC, agencies"""
    )


def review_band(engine: Engine, settings: AuditSettings) -> pl.DataFrame:
    """Scored pairs in the review band, in equal bins of match probability, by the latest
    verdict an analyst gave (``unjudged`` where none)."""
    judged = (
        _judged_sql()
        if engine.table_exists("match_judgement")
        else ("SELECT NULL AS record_l, NULL AS record_r, NULL AS verdict WHERE false")
    )
    low, high = settings.review_low, settings.review_high
    width = (high - low) / BAND_BINS
    frame = engine.frame(
        f"""SELECT least(CAST(floor((m.match_probability - ?) / ?) AS INTEGER), ?) AS bin,
            coalesce(j.verdict, 'unjudged') AS verdict, count(*) AS pairs
        FROM match_pair m LEFT JOIN ({judged}) j
            ON j.record_l = least(m.record_l, m.record_r)
            AND j.record_r = greatest(m.record_l, m.record_r)
        WHERE m.match_probability BETWEEN ? AND ?
        GROUP BY ALL""",
        [low, width, BAND_BINS - 1, low, high],
    )
    bins = pl.DataFrame({"bin": list(range(BAND_BINS))}, schema={"bin": pl.Int32})
    wide = (
        frame.pivot(on="verdict", index="bin", values="pairs")
        if frame.height
        else pl.DataFrame(schema={"bin": pl.Int32})
    )
    wide = bins.join(wide.cast({"bin": pl.Int32}), on="bin", how="left")
    for verdict in ("same", "different", "unsure", "unjudged"):
        if verdict not in wide.columns:
            wide = wide.with_columns(pl.lit(0).alias(verdict))
    edges = [f"{low + i * width:.2f}" for i in range(BAND_BINS + 1)]
    return wide.select(
        probability=pl.col("bin").map_elements(
            lambda b: f"{edges[b]} to {edges[b + 1]}", return_dtype=pl.String
        ),
        judged_same=pl.col("same").fill_null(0).cast(pl.Int64),
        judged_different=pl.col("different").fill_null(0).cast(pl.Int64),
        judged_unsure=pl.col("unsure").fill_null(0).cast(pl.Int64),
        unjudged=pl.col("unjudged").fill_null(0).cast(pl.Int64),
    )
