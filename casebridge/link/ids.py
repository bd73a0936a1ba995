"""Stable person ids: a person keeps their id while their records still cluster together.

The rule. Each new cluster is matched with the earlier person that holds the most of its
records (ties: the earlier person with the most records in all, then the lowest id). Each
earlier id goes to at most one cluster: the one that holds most of that person's records.
A cluster with no earlier person, or whose best earlier person went to another cluster, gets a
new id. An earlier person whose records now sit in several clusters has been split; one whose
cluster took in another earlier person's records has absorbed a merge. Both are recorded in
``person_change``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from casebridge.engine import Engine


def assign_ids(engine: Engine, clusters: pl.DataFrame) -> pl.DataFrame:
    """Return (record_id, person_id) for ``clusters`` (record_id, cluster_id), ids kept stable."""
    previous = (
        engine.frame("SELECT record_id, person_id FROM person_link")
        if engine.table_exists("person_link")
        else pl.DataFrame(schema={"record_id": pl.String, "person_id": pl.String})
    )
    overlap = (
        clusters.join(previous, on="record_id")
        .group_by("cluster_id", "person_id")
        .agg(pl.len().alias("shared"))
        .join(previous.group_by("person_id").agg(pl.len().alias("size")), on="person_id")
    )
    # each earlier id to the cluster holding most of its records; each cluster takes its best
    best_cluster = overlap.sort(["shared", "cluster_id"], descending=[True, False]).unique(
        "person_id", keep="first", maintain_order=True
    )
    kept = best_cluster.sort(
        ["shared", "size", "person_id"], descending=[True, True, False]
    ).unique("cluster_id", keep="first", maintain_order=True)
    assigned = clusters.join(kept.select("cluster_id", "person_id"), on="cluster_id", how="left")
    fresh = (
        assigned.filter(pl.col("person_id").is_null())
        .select("cluster_id")
        .unique()
        .sort("cluster_id")
    )
    start = _next_number(engine) if engine.table_exists("person_link") else 1
    fresh = fresh.with_columns(
        new_id=pl.format("PN{}", (pl.int_range(pl.len()) + start).cast(pl.String).str.zfill(7))
    )
    result = assigned.join(fresh, on="cluster_id", how="left").select(
        "record_id", person_id=pl.coalesce("person_id", "new_id")
    )
    _record_changes(engine, overlap, kept)
    return result


def _next_number(engine: Engine) -> int:
    """One past the highest id ever issued: an id merged away is never issued again."""
    highest = engine.scalar(
        "SELECT max(CAST(substr(id, 3) AS BIGINT)) FROM ("
        "SELECT person_id AS id FROM person_link UNION ALL "
        "SELECT person_id FROM person_change UNION ALL "
        "SELECT other_person_id FROM person_change) WHERE regexp_matches(id, '^PN[0-9]+$')"
    )
    return int(highest or 0) + 1


def _record_changes(engine: Engine, overlap: pl.DataFrame, kept: pl.DataFrame) -> None:
    """Splits: earlier persons spread over several clusters; merges: clusters holding several."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    kept_ids = kept.select("cluster_id", kept_person="person_id")
    split = (
        overlap.group_by("person_id").agg(pl.len().alias("clusters")).filter(pl.col("clusters") > 1)
    )
    merged = overlap.join(kept_ids, on="cluster_id").filter(
        pl.col("person_id") != pl.col("kept_person")
    )
    rows = [
        (now, "split", p, None, n) for p, n in split.select("person_id", "clusters").iter_rows()
    ]
    rows += [
        (now, "merged_into", p, k, s)
        for p, k, s in merged.select("person_id", "kept_person", "shared").iter_rows()
    ]
    if rows:
        frame = pl.DataFrame(
            rows,
            schema={
                "changed_at": pl.Datetime("us"),
                "kind": pl.String,
                "person_id": pl.String,
                "other_person_id": pl.String,
                "records": pl.Int64,
            },
            orient="row",
        )
        engine.create_table_from_arrow("cb_changes", frame, temporary=True)
        engine.execute("INSERT INTO person_change SELECT * FROM cb_changes")
