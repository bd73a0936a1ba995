"""``casebridge report``: one self-contained HTML file of the audit, from the published tables
only (disclosure-controlled counts; no names, birth dates or addresses can reach it).

It opens with what a reader needs first (the workspace, the casebridge version and the dates
of the extracts; sources and their coverage, data-quality headlines, the linkage result,
networks and the review queue at a glance), then the detail. Charts are inline SVG; the
stylesheet and the one script (which marks the charts that drew) are inlined from ``assets/``:
the file renders fully with no network, and fits a window 700 px wide.

On request only, an **internal** version is written from the exact tables (``audit_<table>``,
no suppression, no rounding) to a file of its own whose name says ``internal``; every section
of it says so. It is for people inside the workspace, never for publication.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from html import escape
from pathlib import Path

import polars as pl

from casebridge.audit import charts, words
from casebridge.audit.report_context import INTERNAL_FILE as INTERNAL_FILE
from casebridge.audit.report_context import INTERNAL_MARK as INTERNAL_MARK
from casebridge.audit.report_context import ReportContext as ReportContext
from casebridge.audit.report_context import (
    extract_dates,
    facts,
    target_file,
    workspace_rules,
    write_page,
)
from casebridge.audit.run import build_tables
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.screen.rules import Rule

ASSETS = Path(__file__).parent / "assets"
TABLES = (
    "source_coverage",
    "completeness",
    "compliance",
    "conformance",
    "date_checks",
    "duplicates",
    "quarantine",
    "records_per_person",
    "agency_overlap",
    "linkage_overview",
    "review_band",
    "network_profile",
    "review_by_rule",
    "review_by_priority",
    "demographics",
    "person_completeness",
    "baseline_comparison",
)
COMPULSORY = ("suspect ethnicity", "suspect nationality", "victim age", "offence", "outcome")
NOT_RUN = '<p class="notrun">Not run: {what} has not been run on this workspace.</p>'
BREAKABLE = 8  # a code longer than this may wrap after its underscores
UPSET_COLUMNS = 16  # combinations of agencies drawn; the table beside the chart lists them all


@dataclass(frozen=True)
class LinkedAssets:
    """The URLs a served report takes its stylesheet and script from (``assets/report.css``
    and ``assets/report.js``), in place of inlining them."""

    stylesheet: str
    script: str


def _stored_or_built(
    engine: Engine, settings: AuditSettings, published: bool
) -> dict[str, pl.DataFrame]:
    """The audit's published (or exact) tables: as the last audit wrote them, else made now."""
    suffix = "_published" if published else ""
    if engine.table_exists(f"audit_person_completeness{suffix}"):
        return {
            name: engine.frame(f'SELECT * FROM "audit_{name}{suffix}"')
            for name in TABLES
            if engine.table_exists(f"audit_{name}{suffix}")
        }
    _, pairs = build_tables(engine, settings)
    return {name: pair[1] if published else pair[0] for name, pair in pairs.items()}


def published_tables(engine: Engine, settings: AuditSettings) -> dict[str, pl.DataFrame]:
    """The audit's published tables: as the last audit wrote them, else made now."""
    return _stored_or_built(engine, settings, published=True)


def exact_tables(engine: Engine, settings: AuditSettings) -> dict[str, pl.DataFrame]:
    """The audit's exact tables (no disclosure control): as the last audit wrote them, else
    made now. For the internal report only."""
    return _stored_or_built(engine, settings, published=False)


def render_report(
    engine: Engine,
    settings: AuditSettings,
    model_path: Path | None,
    out: Path,
    context: ReportContext | None = None,
) -> Path:
    """Write the report to ``out`` (a file ending .html, else ``out/report.html``); return it.

    With ``context.internal`` the exact tables are used and the file (``out`` itself, else
    ``out/report-internal.html``) must have ``internal`` in its name; it is readable by its
    owner only.

    Example:
        >>> render_report(engine, AuditSettings(), model, Path("W/report.html"),
        ...               ReportContext(workspace="Northshire review", rules=Path("W/rules")))
        ... # doctest: +SKIP
    """
    context = context or ReportContext()
    path = target_file(out, context.internal)
    html = report_html(engine, settings, model_path, context)
    write_page(path, html, context.internal)
    return path


def report_html(
    engine: Engine,
    settings: AuditSettings,
    model_path: Path | None,
    context: ReportContext,
    linked: LinkedAssets | None = None,
) -> str:
    """The report as one HTML document (published, or internal with ``context.internal``).

    Its stylesheet and script are inlined, so the file stands alone; with ``linked`` they are
    referred to by those URLs instead, for a server whose Content-Security-Policy refuses
    inline styles and scripts (the review service's ``/statistics`` pages).
    """
    if context.internal:
        tables = exact_tables(engine, settings)
    else:
        tables = published_tables(engine, settings)
    stages = {
        "networks": engine.table_exists("network"),
        "screening": engine.table_exists("review_item"),
    }
    sections = [
        _glance(tables, stages, context.internal),
        _quality(tables),
        _linkage(tables, model_path),
        _casework(tables, stages, workspace_rules(context.rules)),
        _demographics(tables, settings.confidence),
        _method(settings, context.internal),
    ]
    return _page(sections, settings, facts(tables, context), context.internal, linked)


# --- small helpers ---------------------------------------------------------------------------


def _n(value: object) -> str:
    return "c" if value is None else f"{int(value):,}"  # type: ignore[call-overload]


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value * 100:.{digits}f}%"


def _share(part: int | None, whole: int | None) -> float | None:
    return None if part is None or not whole else part / whole


def _table(frame: pl.DataFrame, columns: dict[str, str], numeric: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    head = "".join(
        f'<th class="{"n" if c in numeric else ""}">{escape(t)}</th>' for c, t in columns.items()
    )
    rows = []
    for row in frame.select(list(columns)).iter_rows(named=True):
        cells = []
        for column in columns:
            value = row[column]
            text = _n(value) if column in numeric else ("" if value is None else str(value))
            cells.append(f'<td class="{"n" if column in numeric else ""}">{_breakable(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _wrapped(f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>")


def _breakable(text: str) -> str:
    """``text`` escaped, with a place to break a line after each underscore, slash and dot of
    a long word, so that a code (``social_care``, ``person_record``) can wrap in a narrow
    column; a short one (``force_a``) stays whole."""
    return " ".join(
        escape(word).replace("_", "_<wbr>").replace("/", "/<wbr>").replace(".", ".<wbr>")
        if len(word) > BREAKABLE
        else escape(word)
        for word in text.split(" ")
    )


def _wrapped(table: str) -> str:
    """A table in its own box, so that a wide one never widens the page."""
    return f'<div class="table"><table>{table}</table></div>'


def _card(value: str, label: str) -> str:
    return f'<div class="card"><b>{escape(value)}</b><span>{escape(label)}</span></div>'


def _all_years(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("year") == "all")


# --- sections --------------------------------------------------------------------------------


def _glance(
    tables: dict[str, pl.DataFrame], stages: dict[str, bool], internal: bool = False
) -> str:
    coverage = tables["source_coverage"]
    people = tables["person_completeness"].filter(
        (pl.col("population") == "all records") & (pl.col("role") == "suspect")
    )
    overview = dict(tables["linkage_overview"].iter_rows())
    ethnicity = nationality = None
    if people.height:
        row = people.row(0, named=True)
        ethnicity = _share(row["ethnicity_recorded"], row["persons"])
        nationality = _share(row["nationality_recorded"], row["persons"])
    networks = tables.get("network_profile", pl.DataFrame())
    network_count = (
        _n(
            networks.filter((pl.col("dimension") == "suspects") & (pl.col("band") == "all"))[
                "networks"
            ][0]
        )
        if stages["networks"] and networks.height
        else "not run"
    )
    priority = tables.get("review_by_priority", pl.DataFrame())
    items = (
        _n(priority.filter(pl.col("priority") == "all")["items"][0])
        if stages["screening"] and priority.height
        else "not run"
    )
    cards = "".join(
        [
            _card(str(coverage.height), "sources loaded"),
            _card(
                _n(sum(v or 0 for v in coverage["rows_loaded"])),
                "rows loaded" if internal else "rows loaded (rounded)",
            ),
            _card(_pct(ethnicity), "suspects with ethnicity recorded"),
            _card(_pct(nationality), "suspects with nationality recorded"),
            _card(_n(overview.get("persons")), "persons after linkage"),
            _card(
                _n(overview.get("persons known to several agencies")), "known to several agencies"
            ),
            _card(network_count, "group-based networks"),
            _card(items, "cases and people queued for review"),
        ]
    )
    sources = _table(
        coverage.with_columns(
            years=pl.format("{}–{}", "first_year", "last_year"),
            extracted=pl.Series(extract_dates(coverage)),
            balanced=pl.when("balanced").then(pl.lit("yes")).otherwise(pl.lit("NO")),
        ),
        {
            "source": "source",
            "agency": "agency",
            "kind": "kind",
            "extracted": "extracted",
            "years": "years",
            "rows_loaded": "rows loaded",
            "rows_quarantined": "quarantined",
            "values_set_aside": "values set aside",
            "person_records": "person records",
            "events": "events",
            "balanced": "read = loaded + quarantined",
        },
        {"rows_loaded", "rows_quarantined", "values_set_aside", "person_records", "events"},
    )
    return (
        '<section id="glance"><h2>At a glance</h2>'
        f'<div class="cards">{cards}</div>'
        f"<h3>Sources and their coverage</h3>{sources}"
        f"<h3>Compulsory fields: how complete, per source (all years)</h3>{_compulsory(tables)}"
        "</section>"
    )


def _compulsory(tables: dict[str, pl.DataFrame]) -> str:
    frame = _all_years(tables["completeness"]).filter(pl.col("compulsory"))
    if frame.is_empty():
        return "<p>No compulsory field applies to these sources.</p>"
    sources = sorted(set(frame["source"].to_list()))
    head = "".join(f"<th>{escape(field)}</th>" for field in COMPULSORY)
    rows = []
    for source in sources:
        cells = []
        for field in COMPULSORY:
            row = frame.filter((pl.col("source") == source) & (pl.col("field") == field))
            cells.append(
                "<td class='n'>–</td>"
                if row.is_empty()
                else f"<td class='n'>{_pct(_share(row['filled'][0], row['rows'][0]), 0)} "
                f"<span class='note'>of {_n(row['rows'][0])}</span></td>"
            )
        rows.append(f"<tr><td>{_breakable(source)}</td>{''.join(cells)}</tr>")
    body = "".join(rows)
    return _wrapped(f"<thead><tr><th>source</th>{head}</tr></thead><tbody>{body}</tbody>")


def _quality(tables: dict[str, pl.DataFrame]) -> str:
    complete = tables["completeness"].filter(pl.col("year") != "all")
    years = sorted({y for y in complete["year"].to_list() if y != "unknown"})
    rows, shares = [], {}
    for row in complete.iter_rows(named=True):
        label = f"{row['source']} · {row['field']}"
        if label not in rows:
            rows.append(label)
        if row["rows"] == 0 and row["filled"] == 0:
            continue
        shares[(label, row["year"])] = _share(row["filled"], row["rows"])
    heat = charts.heatmap(
        "completeness", "Completeness by source, field and year", rows, years, shares
    )
    comply = tables["compliance"].filter(
        (pl.col("offences") == "all offences")
        & (pl.col("year") != "all")
        & (pl.col("kind") == "police")
    )
    series = {
        source: [_share(*_pair(comply, source, year)) for year in years]
        for source in sorted(set(comply["source"].to_list()))
    }
    compliance_chart = charts.lines(
        "compliance", "Suspects with ethnicity recorded, per force and year", years, series
    )
    compliance_table = _table(
        _all_years(tables["compliance"]),
        {
            "source": "source",
            "agency": "agency",
            "offences": "offences",
            "suspects": "suspects",
            "ethnicity_recorded": "ethnicity recorded",
            "nationality_recorded": "nationality recorded",
            "both_recorded": "both",
        },
        {"suspects", "ethnicity_recorded", "nationality_recorded", "both_recorded"},
    )
    return (
        '<section id="quality"><h2>Data quality</h2>'
        "<h3>Completeness of every standard field, by source and year</h3>"
        '<p class="note">Share of rows with the field filled (compulsory fields over the rows '
        "they apply to: suspects, victims, crimes). Hatched: suppressed by disclosure control. "
        "Columns are years, by their last two digits (10 is 2010)."
        f"</p>{heat}"
        "<h3>Compulsory collection of suspect ethnicity and nationality</h3>"
        f"{compliance_chart}{compliance_table}"
        "<h3>Conformance to the code lists</h3>"
        + _table(
            tables["conformance"],
            {
                "source": "source",
                "entity": "table",
                "field": "field",
                "recorded": "values recorded",
                "conforming": "conforming",
                "set_aside": "set aside",
            },
            {"recorded", "conforming", "set_aside"},
        )
        + "<h3>Dates out of range</h3>"
        + (
            _table(
                tables["date_checks"],
                {"source": "source", "check": "check", "rows": "rows"},
                {"rows"},
            )
            if tables["date_checks"].height
            else "<p>None found.</p>"
        )
        + "<h3>Duplicates within a source</h3>"
        + _table(
            tables["duplicates"],
            {
                "source": "source",
                "person_records": "person records",
                "persons": "persons",
                "repeated_records": "records repeating a person",
                "repeated_involvements": "involvements entered twice",
            },
            {"person_records", "persons", "repeated_records", "repeated_involvements"},
        )
        + "<h3>Quarantined rows and values set aside, by reason</h3>"
        + _table(
            tables["quarantine"],
            {"source": "source", "what": "what", "reason": "reason", "rows": "rows"},
            {"rows"},
        )
        + "</section>"
    )


def _pair(frame: pl.DataFrame, source: str, year: str) -> tuple[int | None, int | None]:
    row = frame.filter((pl.col("source") == source) & (pl.col("year") == year))
    if row.is_empty():
        return None, None
    return row["ethnicity_recorded"][0], row["suspects"][0]


def _linkage(tables: dict[str, pl.DataFrame], model_path: Path | None) -> str:
    per_person = tables["records_per_person"].filter(~pl.col("records").is_in(["all", "2 or more"]))
    overlap = tables["agency_overlap"].filter(pl.col("agency_count").is_not_null())
    sets = sorted({a for combo in overlap["agencies"].to_list() for a in combo.split(" + ")})
    combos = [
        (combo.split(" + "), value)
        for combo, value in overlap.select("agencies", "persons").iter_rows()
    ]
    shown = combos[:UPSET_COLUMNS]
    parts = [
        '<section id="linkage"><h2>Linkage</h2>',
        _table(tables["linkage_overview"], {"measure": "measure", "value": "value"}, {"value"}),
        "<h3>Records per person</h3>",
        charts.bars(
            "records_per_person",
            "Persons by number of records",
            [(f"{r} record(s)", v) for r, v in per_person.iter_rows()],
        ),
        "<h3>Which agencies know each person</h3>",
        '<p class="note">Each column is a combination of agencies; the bar, the persons known '
        "to exactly those agencies"
        + (
            f" (the first {len(shown)} of {len(combos)} combinations; the table has them all)"
            if len(shown) < len(combos)
            else ""
        )
        + ".</p>",
        charts.upset(
            "agency_overlap", "Persons by the agencies that hold a record of them", shown, sets
        ),
        "<details><summary>table</summary>"
        + _table(overlap, {"agencies": "agencies", "persons": "persons"}, {"persons"})
        + "</details>",
    ]
    if "review_band" in tables:
        band = tables["review_band"].filter(pl.col("probability") != "all")
        keys = ["judged_same", "judged_different", "judged_unsure", "unjudged"]
        rows = [(r["probability"], [r[k] for k in keys]) for r in band.iter_rows(named=True)]
        parts += [
            "<h3>The uncertain band: pairs analysts should look at</h3>",
            '<p class="note">Pairs of records whose chance of being one person (match '
            "probability) is neither high enough to link them nor low enough to leave them "
            "apart, by that chance and by the analysts' verdict.</p>",
            charts.stacked(
                "review_band",
                "Pairs in the review band by match probability and verdict",
                rows,
                ["same", "different", "unsure", "not judged"],
            ),
        ]
    parts += ["<h3>The linkage model: what each comparison weighs</h3>", _weights(model_path)]
    return "".join(parts) + "</section>"


def _weights(model_path: Path | None) -> str:
    if model_path is None or not model_path.is_file():
        return NOT_RUN.format(what="model training (no linkage model file)")
    try:
        model = json.loads(model_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problem = f"The linkage model {model_path.name} cannot be read: {exc}"
        return f'<p class="notrun">{escape(problem)}</p>'
    rows = []
    for comparison in model.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level") or not m or not u:
                continue
            rows.append(
                (
                    words.plain_name(comparison.get("output_column_name", "?")),
                    words.plain_level(level.get("label_for_charts", "?")),
                    math.log2(m / u),
                )
            )
    if not rows:
        return "<p>The model has no trained levels.</p>"
    return (
        '<p class="note">The weight of evidence (match weight) of each way two records can '
        "compare: how far it moves the odds that they are one person. +1 doubles the odds, "
        "−1 halves them; green for, red against. It is the logarithm to base 2 of how many "
        "times more often records of one person compare this way than records of two people "
        "do (Bayes factor, m/u).</p>"
        + charts.weights("match_weights", "Weight of evidence of each comparison level", rows)
        + _waterfall(model, rows)
    )


def _waterfall(model: dict[str, object], rows: list[tuple[str, str, float]]) -> str:
    """How the weights add up, for two records that agree as closely as the model can tell on
    every field: from the starting odds to the total and its probability."""
    prior = model.get("probability_two_random_records_match")
    if not isinstance(prior, float) or not 0 < prior < 1:
        return ""
    best: dict[str, tuple[str, str, float]] = {}
    for comparison, level, weight in rows:
        best.setdefault(comparison, (comparison, level, weight))
    steps = [("starting odds (prior)", "two records picked at random", words.prior_weight(prior))]
    steps += list(best.values())
    total = sum(weight for *_, weight in steps)
    chance = f"chance they are one person (match probability) {words.probability(total)}"
    steps.append(("total", chance, total))
    return (
        "<h3>How the evidence adds up</h3>"
        '<p class="note">Two records that agree in the closest way the model knows on every '
        "field: each comparison moves the running weight from where the last one left it, "
        "starting from the odds that two records picked at random are one person (prior); "
        "the blue bar is the total, with the chance that the two are one person (match "
        "probability). <code>casebridge link explain --chart</code> draws the same chart "
        "for any pair.</p>"
        + charts.waterfall("evidence_waterfall", "How the weights of evidence add up", steps)
    )


def _casework(tables: dict[str, pl.DataFrame], stages: dict[str, bool], rules: list[Rule]) -> str:
    parts = ['<section id="casework"><h2>Networks and the review queue</h2><h3>Networks</h3>']
    if not stages["networks"]:
        parts.append(NOT_RUN.format(what="network detection"))
    else:
        profile = tables["network_profile"].filter(pl.col("band") != "all")
        for dimension in profile["dimension"].unique(maintain_order=True).to_list():
            part = profile.filter(pl.col("dimension") == dimension)
            parts.append(f"<h4>By {escape(dimension)}</h4>")
            parts.append(
                charts.bars(
                    f"networks_{dimension.replace(' ', '_')}",
                    f"Networks by {dimension}",
                    list(part.select("band", "networks").iter_rows()),
                )
            )
    parts.append("<h3>Review queue</h3>")
    if not stages["screening"]:
        parts.append(NOT_RUN.format(what="screening"))
    else:
        parts.append(
            charts.bars("review_rules", "Review items by rule", _by_rule(tables, rules), 680)
        )
        priority = tables["review_by_priority"].filter(pl.col("priority") != "all")
        parts.append(
            charts.bars("review_priority", "Review items by priority", list(priority.iter_rows()))
        )
    return "".join(parts) + "</section>"


def _by_rule(tables: dict[str, pl.DataFrame], rules: list[Rule]) -> list[tuple[str, int | None]]:
    """Review items per rule, each rule named by its id and title (from the rule files); an
    enabled rule that queued nothing shows 0."""
    counted = dict(tables["review_by_rule"].select("rule", "items").iter_rows())
    known = {rule.id for rule in rules}
    items = [
        (
            f"{rule.id} {rule.title}" + ("" if rule.enabled else " (switched off)"),
            counted.get(rule.id, 0),
        )
        for rule in rules
        if rule.enabled or rule.id in counted
    ]
    return items + [(rule, counted[rule]) for rule in sorted(set(counted) - known)]


def _demographics(tables: dict[str, pl.DataFrame], confidence: float = 0.95) -> str:
    frame = tables["demographics"]
    parts = [
        '<section id="statistics"><h2>Suspects and victims: ethnicity and nationality</h2>',
        '<p class="note">Each person once, with what any of their linked records holds. Bars run '
        "from the lower bound (no unknown person in the category) to the upper (every unknown "
        "in it); the dot is the share among known values, as commonly quoted, never to be read "
        "without the bar. Bounds are worked out from the published counts, so they also allow "
        "for rounding and suppression. A suppressed count has no dot and no share of known: "
        "its bar runs over every value the suppression leaves possible.</p>",
    ]
    completeness = tables["person_completeness"]
    parts.append(
        _table(
            completeness.with_columns(
                ethnicity=pl.struct("ethnicity_recorded", "persons").map_elements(
                    lambda r: _pct(_share(r["ethnicity_recorded"], r["persons"])),
                    return_dtype=pl.String,
                ),
                nationality=pl.struct("nationality_recorded", "persons").map_elements(
                    lambda r: _pct(_share(r["nationality_recorded"], r["persons"])),
                    return_dtype=pl.String,
                ),
            ),
            {
                "population": "population",
                "role": "role",
                "persons": "persons",
                "ethnicity": "ethnicity recorded",
                "nationality": "nationality recorded",
            },
            {"persons"},
        )
    )
    baseline = tables.get("baseline_comparison")
    for (population, role), block in frame.group_by("population", "role", maintain_order=True):
        parts.append(f"<h3>{escape(str(role)).capitalize()}s — {escape(str(population))}</h3>")
        parts.append(
            _statistics_block(block, str(population), str(role), baseline, f"{confidence:.0%}")
        )
    if baseline is not None:
        parts.append("<h3>Against the population baseline</h3>")
        parts.append(
            _table(
                baseline,
                {
                    "population": "population",
                    "role": "role",
                    "category": "ethnicity",
                    "baseline_share": "baseline share",
                    "share_lower": "lower",
                    "share_upper": "upper",
                    "interval_lower": "95% low",
                    "interval_upper": "95% high",
                    "reading": "reading",
                },
            )
        )
    return "".join(parts) + "</section>"


CHART_ROWS = 12  # rows of the nationality chart at most; its table lists every row


def _statistics_block(
    block: pl.DataFrame,
    population: str,
    role: str,
    baseline: pl.DataFrame | None,
    level: str = "95%",
) -> str:
    denominator = block.filter(pl.col("kind") == "all")["persons"]
    out = [f"<p>{_n(denominator[0] if len(denominator) else None)} persons.</p>"]
    wanted = {
        "ethnicity_group": "Ethnicity (self-defined, grouped)",
        "ethnicity_18plus1": "Ethnicity (self-defined, 18+1)",
        "ethnicity_officer": "Ethnicity (officer-defined, IC code)",
        "nationality": "Nationality",
    }
    base = {}
    if baseline is not None:
        here = baseline.filter((pl.col("population") == population) & (pl.col("role") == role))
        base = {
            (c, k): b
            for c, k, b in here.select("classification", "category", "baseline_share").iter_rows()
        }
    for classification, title in wanted.items():
        rows = block.filter(
            (pl.col("classification") == classification)
            & pl.col("kind").is_in(["category", "other"])
        )
        # the nationality chart draws the twelve largest shares; its table lists every row
        cut = classification == "nationality" and rows.height > CHART_ROWS
        drawn = rows.sort("share_lower", descending=True, nulls_last=True).head(CHART_ROWS)
        # 18+1 codes share the groups' unknown (a person may be known only to a group)
        held = "ethnicity_group" if classification == "ethnicity_18plus1" else classification
        unknown = block.filter((pl.col("classification") == held) & (pl.col("kind") == "unknown"))
        items = [
            charts.Interval(
                f"{r['category']} {r['label']}" if r["category"] != r["label"] else r["label"],
                r["share_lower"],
                r["share_upper"],
                r["share_of_known"],
                base.get((classification, r["category"])),
                r.get("interval_lower"),
                r.get("interval_upper"),
            )
            for r in (drawn if cut else rows).iter_rows(named=True)
        ]
        name = f"shares_{population}_{role}_{classification}".replace(" ", "_").replace("-", "_")
        unknown_text = _n(unknown["persons"][0]) if unknown.height else "–"
        out.append(f"<h4>{escape(title)} — not recorded for {unknown_text}</h4>")
        if cut:
            out.append(
                f'<p class="note">The chart shows the {CHART_ROWS} largest lower bounds; '
                f"the table lists all {rows.height} rows.</p>"
            )
        out.append(
            charts.intervals(
                name, f"{title}: bounds of each share", items, interval=f"{level} interval"
            )
        )
        out.append(
            "<details><summary>table</summary>"
            + _table(
                rows.with_columns(
                    lower=pl.col("share_lower").map_elements(_pct, return_dtype=pl.String),
                    upper=pl.col("share_upper").map_elements(_pct, return_dtype=pl.String),
                    known=pl.col("share_of_known").map_elements(_pct, return_dtype=pl.String),
                    interval=_interval_text(rows),
                ),
                {
                    "category": "category",
                    "label": "label",
                    "persons": "persons",
                    "denominator": "of",
                    "unknown": "not recorded",
                    "lower": "lower bound",
                    "upper": "upper bound",
                    "known": "share of known",
                    "interval": f"{level} interval",
                },
                {"persons", "denominator", "unknown"},
            )
            + "</details>"
        )
    return "".join(out)


def _interval_text(rows: pl.DataFrame) -> pl.Series:
    """Each row's chance interval around its bounds, as "a to b" (blank where there is none)."""
    if "interval_lower" not in rows.columns:
        return pl.Series([""] * rows.height, dtype=pl.String)
    return pl.Series(
        [
            "" if low is None or high is None else f"{_pct(low)} to {_pct(high)}"
            for low, high in rows.select("interval_lower", "interval_upper").iter_rows()
        ],
        dtype=pl.String,
    )


def _method(settings: AuditSettings, internal: bool = False) -> str:
    control = settings.disclosure
    disclosure = (
        "<li>Counts are exact: this internal version has no disclosure control (nothing "
        "suppressed, nothing rounded). It may identify people and must not leave the "
        "workspace; the published report is the one to share.</li>"
        if internal
        else f"<li>Disclosure control: counts from 1 to {control.threshold - 1} are suppressed "
        f"(c); the rest are rounded to the nearest {control.rounding_base} from their "
        "unrounded values, so published figures need not add up; true zeros are shown as 0; "
        "where a total would give a suppressed count away, a second count is suppressed "
        "too.</li>"
    )
    glossary = "".join(
        f"<div><dt>{escape(plain)} <span class='term'>({escape(term)})</span></dt>"
        f"<dd>{escape(meaning)}</dd></div>"
        for plain, term, meaning in words.GLOSSARY
    )
    return (
        '<section id="method"><h2>How these figures are made</h2><ul>'
        + disclosure
        + "<li>A person is counted once, with what any of their linked records holds: a person "
        "whose ethnicity is recorded in any record is known.</li>"
        "<li>Self-defined ethnicity (18+1) and officer-defined (IC code) are different "
        "measurements and are never mixed; a phrase naming only a broad group (“Asian”) makes "
        "the group known, not the code.</li>"
        "<li>Child sexual offences: crimes recorded as sexual offences with a victim under 18, "
        "and duty-to-report reports.</li>"
        f"<li>The {settings.confidence:.0%} intervals add chance variation to the bounds "
        "(Wilson): the thin line around each bar runs from the interval's low end below the "
        "lower bound to its high end above the upper bound. A population baseline is taken "
        "as exact.</li>"
        "</ul><h3>Words used for linkage</h3>"
        '<p class="note">casebridge links records with Splink; its terms are given in '
        "brackets beside plain words.</p>"
        f'<dl class="glossary">{glossary}</dl></section>'
    )


def _page(
    sections: list[str],
    settings: AuditSettings,
    facts: str,
    internal: bool,
    linked: LinkedAssets | None = None,
) -> str:
    if linked is None:
        css = (ASSETS / "report.css").read_text(encoding="utf-8")
        script = (ASSETS / "report.js").read_text(encoding="utf-8")
        stylesheet, script_tag = f"<style>{css}</style>", f"<script>{script}</script>"
    else:
        stylesheet = f'<link rel="stylesheet" href="{escape(linked.stylesheet)}">'
        script_tag = f'<script src="{escape(linked.script)}"></script>'
    nav = "".join(
        f'<a href="#{a}">{t}</a>'
        for a, t in (
            ("glance", "At a glance"),
            ("quality", "Data quality"),
            ("linkage", "Linkage"),
            ("casework", "Networks and review"),
            ("statistics", "Statistics"),
            ("method", "Method"),
        )
    )
    if internal:
        mark = f'<p class="internal-mark" role="note">{escape(INTERNAL_MARK)}</p>'
        sections = [section.replace("</h2>", "</h2>" + mark, 1) for section in sections]
        title = f"{INTERNAL_MARK}: casebridge audit report"
        banner = f'<div class="internal-banner" role="note">{escape(INTERNAL_MARK)}</div>'
        control = (
            "Counts are exact, with no disclosure control: for people inside the workspace, "
            "never for publication."
        )
    else:
        title, banner = "casebridge audit report", ""
        control = (
            f"Counts under disclosure control (threshold {settings.disclosure.threshold}, "
            f"rounded to {settings.disclosure.rounding_base}). Synthetic or real, this report "
            "holds no names, birth dates or addresses."
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>{stylesheet}</head>"
        f'<body class="{"internal" if internal else "published"}">{banner}'
        f"<h1>casebridge audit report</h1>{facts}"
        f'<p class="meta">{control}</p>'
        f"<nav>{nav}</nav>{''.join(sections)}{script_tag}</body></html>"
    )
