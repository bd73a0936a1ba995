"""What a reader of docs/audit.md knows ties the published tables together, table by table and
across tables, written as constraints for ``attack.Reader``.

Each function reads published tables only (as exported: years as text, suppressed counts
null). The relations are the documented meanings of the columns: years add up to ``all``; a
part is at most its total; the same count shown in two tables is one count; sub-populations
are parts of ``all records``; a classification's categories and its unknowns add up to the
persons.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from tests.audit.attack import ALL, Reader

Tables = dict[str, pl.DataFrame]
STANDARD_VALUE_FIELDS = (
    "date_of_birth",
    "sex",
    "nationality",
    "postcode",
    "phone",
    "event_date",
    "offence_code",
    "outcome_code",
    "outcome_date",
    "is_penetrative",
    "cse_flag",
    "role",
)
FINDING_FIELD = {"offence_code": "offence", "outcome_code": "outcome"}


def _years(
    reader: Reader, frame: pl.DataFrame, by: list[str], counts: list[str], prefix: str
) -> None:
    """Each count's years add up to its ``all`` row."""
    for key, group in frame.group_by(by, maintain_order=True):
        years = [y for y in group["year"].to_list() if y != ALL]
        if ALL not in group["year"].to_list():
            continue
        for count in counts:
            total = reader.var((prefix, *key, ALL, count))
            reader.equal(total, [reader.var((prefix, *key, y, count)) for y in years])


def coverage(reader: Reader, tables: Tables) -> None:
    for row in tables["source_coverage"].iter_rows(named=True):
        for column in (
            "rows_loaded",
            "rows_quarantined",
            "values_set_aside",
            "person_records",
            "events",
        ):
            reader.shown(("coverage", row["source"], column), row[column])


def completeness(reader: Reader, tables: Tables) -> None:
    frame = tables["completeness"]
    by = ["source", "entity", "field", "scope"]
    for row in frame.iter_rows(named=True):
        key = ("completeness", *(row[b] for b in by), row["year"])
        cells = {
            c: reader.shown((*key, c), row[c])
            for c in ("rows", "recorded", "filled", "unrecognised")
        }
        reader.equal(cells["recorded"], [cells["filled"], cells["unrecognised"]])
        reader.at_least(cells["rows"], [cells["recorded"]])
        # the rows are the same for every field of one entity and scope
        first = reader.var(
            ("completeness rows", row["source"], row["entity"], row["scope"], row["year"])
        )
        reader.equal(first, [cells["rows"]])
    _years(reader, frame, by, ["rows", "recorded", "filled", "unrecognised"], "completeness")
    for row in frame.filter(pl.col("scope") == "crimes").iter_rows(named=True):
        events = ("completeness rows", row["source"], "event", "all", row["year"])
        if events in reader.names:
            crimes = ("completeness rows", row["source"], "event", "crimes", row["year"])
            reader.at_least(reader.var(events), [reader.var(crimes)])


def compliance(reader: Reader, tables: Tables) -> None:
    frame = tables["compliance"]
    measures = ["suspects", "ethnicity_recorded", "nationality_recorded", "both_recorded"]
    parts = ["both", "ethnicity only", "nationality only", "neither"]
    for row in frame.iter_rows(named=True):
        key = ("compliance", row["source"], row["offences"], row["year"])
        cells = {m: reader.shown((*key, m), row[m]) for m in measures}
        split = {p: reader.var((*key, p)) for p in parts}
        reader.equal(cells["suspects"], list(split.values()))
        reader.equal(cells["ethnicity_recorded"], [split["both"], split["ethnicity only"]])
        reader.equal(cells["nationality_recorded"], [split["both"], split["nationality only"]])
        reader.equal(cells["both_recorded"], [split["both"]])
    _years(reader, frame, ["source", "offences"], [*measures, *parts], "compliance")
    for row in frame.filter(pl.col("offences") == "child sexual offences").iter_rows(named=True):
        outer = ("compliance", row["source"], "all offences", row["year"])
        for name in (*measures, *parts):
            inner = reader.var(("compliance", row["source"], row["offences"], row["year"], name))
            reader.at_least(reader.var((*outer, name)), [inner])
    for row in frame.filter(pl.col("offences") == "all offences").iter_rows(named=True):
        rows = ("completeness rows", row["source"], "involvement", "suspects", row["year"])
        if rows in reader.names:
            key = ("compliance", row["source"], row["offences"], row["year"], "suspects")
            reader.at_least(reader.var(rows), [reader.var(key)])


def conformance(reader: Reader, tables: Tables) -> None:
    for row in tables["conformance"].iter_rows(named=True):
        key = ("conformance", row["source"], row["entity"], row["field"])
        cells = {
            c: reader.shown((*key, c), row[c]) for c in ("recorded", "conforming", "set_aside")
        }
        reader.at_least(cells["recorded"], [cells["conforming"]])
        filled = ("completeness", row["source"], row["entity"], row["field"], "all", ALL, "filled")
        if row["field"] in STANDARD_VALUE_FIELDS and filled in reader.names:
            reader.at_least(reader.var(filled), [cells["conforming"]])
        field = FINDING_FIELD.get(row["field"], row["field"])
        reader.equal(reader.var(("set aside", row["source"], field)), [cells["set_aside"]])


def quarantine(reader: Reader, tables: Tables) -> None:
    frame = tables["quarantine"]
    for (source,), group in frame.group_by("source", maintain_order=True):
        rows = {
            r["reason"]: reader.shown(("quarantine", source, r["what"], r["reason"]), r["rows"])
            for r in group.filter(pl.col("what") == "quarantined row").iter_rows(named=True)
        }
        aside = [
            (r["reason"], reader.shown(("quarantine", source, r["what"], r["reason"]), r["rows"]))
            for r in group.filter(pl.col("what") == "value set aside").iter_rows(named=True)
        ]
        for r in group.filter(
            ~pl.col("what").is_in(["quarantined row", "value set aside"])
        ).iter_rows(named=True):
            reader.shown(("quarantine", source, r["what"], r["reason"]), r["rows"])
        if rows:
            reader.equal(reader.var(("reasons", source)), rows.values())
            reader.at_least(
                reader.var(("reasons", source)),
                [reader.var(("coverage", source, "rows_quarantined"))],
            )
        reader.equal(reader.var(("coverage", source, "values_set_aside")), [c for _, c in aside])
        for field in {reason.split(": ")[0] for reason, _ in aside}:
            parts = [c for reason, c in aside if reason.split(": ")[0] == field]
            if ("set aside", source, field) in reader.names:
                reader.equal(reader.var(("set aside", source, field)), parts)


def duplicates(reader: Reader, tables: Tables) -> None:
    for row in tables["duplicates"].iter_rows(named=True):
        key = ("duplicates", row["source"])
        cells = {
            c: reader.shown((*key, c), row[c])
            for c in ("person_records", "persons", "repeated_records", "repeated_involvements")
        }
        reader.equal(cells["person_records"], [cells["persons"], cells["repeated_records"]])


def date_checks(reader: Reader, tables: Tables) -> None:
    for row in tables["date_checks"].iter_rows(named=True):
        reader.shown(("date check", row["source"], row["check"]), row["rows"])


def _listed(
    reader: Reader, frame: pl.DataFrame, label: str, count: str, name: str
) -> dict[str, int]:
    return {r[label]: reader.shown((name, r[label]), r[count]) for r in frame.iter_rows(named=True)}


def linkage(reader: Reader, tables: Tables) -> None:
    per = _listed(reader, tables["records_per_person"], "records", "persons", "records per person")
    reader.equal(per[ALL], [per[k] for k in per if k not in (ALL, "2 or more")])
    reader.equal(per["2 or more"], [per[k] for k in per if k not in (ALL, "2 or more", "1")])
    overlap = tables["agency_overlap"]
    agencies = _listed(reader, overlap, "agencies", "persons", "agency overlap")
    sizes = dict(overlap.select("agencies", "agency_count").iter_rows())
    reader.equal(agencies[ALL], [agencies["one agency"], agencies["several agencies"]])
    reader.equal(agencies["one agency"], [agencies[a] for a, n in sizes.items() if n == 1])
    reader.equal(
        agencies["several agencies"], [agencies[a] for a, n in sizes.items() if n and n > 1]
    )
    reader.equal(per[ALL], [agencies[ALL]])
    overview = _listed(reader, tables["linkage_overview"], "measure", "value", "overview")
    reader.equal(overview["persons"], [per[ALL]])
    reader.equal(overview["persons with several records"], [per["2 or more"]])
    reader.equal(overview["persons known to several agencies"], [agencies["several agencies"]])
    # a person with k records holds k of them; one known to k agencies holds at least k
    weights = [(per[k], float(k.rstrip("+"))) for k in per if k not in (ALL, "2 or more")]
    reader.weighted(overview["person records"], weights)
    spread = [(agencies[a], float(n)) for a, n in sizes.items() if n]
    reader.weighted(overview["person records"], spread)
    if "review_band" in tables:
        _review_band(reader, tables["review_band"], overview)


def _review_band(reader: Reader, frame: pl.DataFrame, overview: dict[str, int]) -> None:
    columns = [c for c in frame.columns if c != "probability"]
    for row in frame.iter_rows(named=True):
        cells = [reader.shown(("band", row["probability"], c), row[c]) for c in columns]
        reader.equal(cells[-1], cells[:-1])
    bins = [b for b in frame["probability"].to_list() if b != ALL]
    for column in columns:
        reader.equal(
            reader.var(("band", ALL, column)), [reader.var(("band", b, column)) for b in bins]
        )
    band, unjudged = reader.var(("band", ALL, ALL)), reader.var(("band", ALL, "unjudged"))
    reader.equal(overview["pairs in the review band"], [band])
    judged = overview["pairs in the review band judged by an analyst"]
    reader.equal(band, [judged, unjudged])
    reader.at_least(overview["judgements recorded"], [judged])
    reader.at_least(overview["pairs scored (kept for review and explanation)"], [band])


def casework(reader: Reader, tables: Tables) -> None:
    profile = tables["network_profile"]
    totals = []
    for (dimension,), part in profile.group_by("dimension", maintain_order=True):
        cells = _listed(reader, part, "band", "networks", f"networks by {dimension}")
        reader.equal(cells[ALL], [c for b, c in cells.items() if b != ALL])
        totals.append(cells[ALL])
    for total in totals[1:]:
        reader.equal(totals[0], [total])
    priority = _listed(reader, tables["review_by_priority"], "priority", "items", "priority")
    rules = _listed(reader, tables["review_by_rule"], "rule", "items", "rule")
    if priority:
        reader.equal(priority[ALL], [c for b, c in priority.items() if b != ALL])
        if rules:
            reader.at_least(reader.var(("rules met",)), [priority[ALL]])
            reader.equal(reader.var(("rules met",)), rules.values())


def demographics(reader: Reader, tables: Tables) -> None:
    frame = tables["demographics"]
    for (population, role), block in frame.group_by("population", "role", maintain_order=True):
        cell: Callable[[str, str], int] = lambda c, k, p=population, r=role: reader.var(  # noqa: E731
            ("demographics", p, r, c, k)
        )
        for row in block.iter_rows(named=True):
            here = reader.shown(
                ("demographics", population, role, row["classification"], row["category"]),
                row["persons"],
            )
            reader.within(here, row["persons_low"], row["persons_high"] or float("inf"))
        total = reader.shown(("persons", population, role), block["denominator"][0])
        reader.equal(total, [cell("all", "all")])
        rows = {
            c: block.filter(pl.col("classification") == c)
            for c in ("ethnicity_group", "ethnicity_18plus1", "ethnicity_officer", "nationality")
        }
        groups = rows["ethnicity_group"]["category"].to_list()
        reader.equal(total, [cell("ethnicity_group", g) for g in groups])
        codes = rows["ethnicity_18plus1"]["category"].to_list()
        for group in [g for g in groups if g != "unknown"]:
            # 18+1 codes start with their group's letter (ONS 2011 classification, police codes)
            members = [k for k in codes if k[0] == group[0] and k[1].isdigit()]
            members.append(f"group:{group}")
            reader.equal(
                cell("ethnicity_group", group), [cell("ethnicity_18plus1", m) for m in members]
            )
        reader.equal(
            total, [cell("ethnicity_officer", k) for k in rows["ethnicity_officer"]["category"]]
        )
        national = rows["nationality"]
        kinds = dict(national.select("category", "kind").iter_rows())
        reader.equal(
            total,
            [
                cell("nationality", k)
                for k, kind in kinds.items()
                if kind != "other" and (kind != "category" or k == "GBR")
            ],
        )
        reader.equal(
            cell("nationality", "not GBR"),
            [
                cell("nationality", k)
                for k, kind in kinds.items()
                if kind in ("category", "other") and k != "GBR"
            ],
        )


def person_completeness(reader: Reader, tables: Tables) -> None:
    for row in tables["person_completeness"].iter_rows(named=True):
        _person_completeness(reader, tables["demographics"], row)


def _person_completeness(
    reader: Reader, demographics: pl.DataFrame, row: dict[str, object]
) -> None:
    """Each measure is the persons less an unknown of ``demographics``, or a sum of its
    rows; the persons split four ways by self-defined and officer-defined ethnicity, and four
    ways by ethnicity (either) and nationality."""
    p, r = row["population"], row["role"]
    shown = {
        c: reader.shown(("person completeness", p, r, c), v)
        for c, v in row.items()
        if c not in ("population", "role", "counted")
    }

    def demo(classification: str, category: str) -> int:
        return reader.var(("demographics", p, r, classification, category))

    persons = shown["persons"]
    reader.equal(reader.var(("persons", p, r)), [persons])
    for measure, classification in (
        ("ethnicity_self_recorded", "ethnicity_group"),
        ("ethnicity_officer_recorded", "ethnicity_officer"),
        ("nationality_recorded", "nationality"),
    ):
        reader.equal(persons, [shown[measure], demo(classification, "unknown")])
    split = {
        k: reader.var(("split", p, r, k)) for k in ("so", "s", "o", "none", "en", "e", "n", "x")
    }
    reader.equal(persons, [split[k] for k in ("so", "s", "o", "none")])
    reader.equal(shown["ethnicity_self_recorded"], [split["so"], split["s"]])
    reader.equal(shown["ethnicity_officer_recorded"], [split["so"], split["o"]])
    reader.equal(shown["ethnicity_recorded"], [split["so"], split["s"], split["o"]])
    reader.equal(persons, [split[k] for k in ("en", "e", "n", "x")])
    reader.equal(shown["both_recorded"], [split["en"]])
    reader.equal(shown["ethnicity_recorded"], [split["en"], split["e"]])
    reader.equal(shown["nationality_recorded"], [split["en"], split["n"]])
    reader.at_least(split["none"], [shown["ethnicity_unrecognised"]])
    reader.at_least(demo("nationality", "unknown"), [shown["nationality_unrecognised"]])
    for name in ("ethnicity", "nationality"):
        reader.equal(
            shown[f"{name}_recorded_any_form"],
            [shown[f"{name}_recorded"], shown[f"{name}_unrecognised"]],
        )
    codes = demographics.filter(
        (pl.col("population") == p)
        & (pl.col("role") == r)
        & (pl.col("classification") == "ethnicity_18plus1")
        & (pl.col("kind") == "category")
    )["category"]
    reader.equal(shown["ethnicity_18plus1_recorded"], [demo("ethnicity_18plus1", k) for k in codes])


def across_tables(reader: Reader, tables: Tables) -> None:
    """The same counts in several tables, and sub-populations within all records."""
    for row in tables["source_coverage"].iter_rows(named=True):
        source = row["source"]
        records = reader.var(("coverage", source, "person_records"))
        if ("duplicates", source, "person_records") in reader.names:
            reader.equal(records, [reader.var(("duplicates", source, "person_records"))])
        for entity, column in (("person_record", "person_records"), ("event", "events")):
            rows = ("completeness rows", source, entity, "all", ALL)
            if rows in reader.names:
                reader.equal(reader.var(("coverage", source, column)), [reader.var(rows)])
    sources = [
        reader.var(("coverage", r["source"], "person_records"))
        for r in tables["source_coverage"].iter_rows(named=True)
    ]
    reader.equal(reader.var(("overview", "person records")), sources)
    inner = [
        name
        for name in reader.names
        if name[0] in ("demographics", "persons", "split") and name[1] != "all records"
    ]
    for name in inner:
        outer = (name[0], "all records", *name[2:])
        if outer in reader.names:
            reader.at_least(reader.var(outer), [reader.var(name)])


EVERY_TABLE = (
    coverage,
    completeness,
    compliance,
    conformance,
    quarantine,
    duplicates,
    date_checks,
    linkage,
    casework,
    demographics,
    person_completeness,
)
