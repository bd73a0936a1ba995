"""``casebridge report``: one self-contained HTML file of the audit, from the published tables
only (disclosure-controlled counts; no names, birth dates or addresses can reach it).

It opens with what a reader needs first (sources and their coverage, data-quality headlines,
the linkage result, networks and the review queue at a glance), then the detail. Charts are
inline SVG; the stylesheet and the one script (which marks the charts that drew) are inlined
from ``assets/``: the file renders fully with no network.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from html import escape
from pathlib import Path

import polars as pl

from casebridge.audit import charts
from casebridge.audit.run import build_tables
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.errors import OutputError

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


def published_tables(engine: Engine, settings: AuditSettings) -> dict[str, pl.DataFrame]:
    """The audit's published tables: as the last audit wrote them, else made now."""
    if engine.table_exists("audit_person_completeness_published"):
        return {
            name: engine.frame(f'SELECT * FROM "audit_{name}_published"')
            for name in TABLES
            if engine.table_exists(f"audit_{name}_published")
        }
    _, pairs = build_tables(engine, settings)
    return {name: published for name, (_, published) in pairs.items()}


def render_report(
    engine: Engine, settings: AuditSettings, model_path: Path | None, out: Path
) -> Path:
    """Write the report to ``out`` (a file ending .html, else ``out/report.html``); return it."""
    tables = published_tables(engine, settings)
    stages = {
        "networks": engine.table_exists("network"),
        "screening": engine.table_exists("review_item"),
    }
    sections = [
        _glance(tables, stages),
        _quality(tables),
        _linkage(tables, model_path),
        _casework(tables, stages),
        _demographics(tables),
        _method(settings),
    ]
    html = _page(sections, settings)
    path = out if out.suffix == ".html" else out / "report.html"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write the report to {path}: {exc.strerror}") from exc
    return path


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
            cells.append(f'<td class="{"n" if column in numeric else ""}">{escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _card(value: str, label: str) -> str:
    return f'<div class="card"><b>{escape(value)}</b><span>{escape(label)}</span></div>'


def _all_years(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("year") == "all")


# --- sections --------------------------------------------------------------------------------


def _glance(tables: dict[str, pl.DataFrame], stages: dict[str, bool]) -> str:
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
            _card(_n(sum(v or 0 for v in coverage["rows_loaded"])), "rows loaded (rounded)"),
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
            balanced=pl.when("balanced").then(pl.lit("yes")).otherwise(pl.lit("NO")),
        ),
        {
            "source": "source",
            "agency": "agency",
            "kind": "kind",
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
        rows.append(f"<tr><td>{escape(source)}</td>{''.join(cells)}</tr>")
    body = "".join(rows)
    return f"<table><thead><tr><th>source</th>{head}</tr></thead><tbody>{body}</tbody></table>"


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
        "they apply to: suspects, victims, crimes). Hatched: suppressed by disclosure control."
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
    ][:24]
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
        "to exactly those agencies.</p>",
        charts.upset(
            "agency_overlap", "Persons by the agencies that hold a record of them", combos, sets
        ),
    ]
    if "review_band" in tables:
        band = tables["review_band"].filter(pl.col("probability") != "all")
        keys = ["judged_same", "judged_different", "judged_unsure", "unjudged"]
        rows = [(r["probability"], [r[k] for k in keys]) for r in band.iter_rows(named=True)]
        parts += [
            "<h3>The uncertain band: pairs analysts should look at</h3>",
            charts.stacked(
                "review_band",
                "Pairs in the review band by probability and verdict",
                rows,
                ["same", "different", "unsure", "not judged"],
            ),
        ]
    parts += ["<h3>The linkage model: what each comparison level weighs</h3>", _weights(model_path)]
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
                    comparison.get("output_column_name", "?"),
                    level.get("label_for_charts", "?"),
                    math.log2(m / u),
                )
            )
    if not rows:
        return "<p>The model has no trained levels.</p>"
    return (
        '<p class="note">Match weight = log2(m/u): how much agreement at this level moves the '
        "odds that two records are one person (green for, red against).</p>"
        + charts.weights("match_weights", "Match weight of each comparison level", rows)
    )


def _casework(tables: dict[str, pl.DataFrame], stages: dict[str, bool]) -> str:
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
            charts.bars(
                "review_rules", "Review items by rule", list(tables["review_by_rule"].iter_rows())
            )
        )
        priority = tables["review_by_priority"].filter(pl.col("priority") != "all")
        parts.append(
            charts.bars("review_priority", "Review items by priority", list(priority.iter_rows()))
        )
    return "".join(parts) + "</section>"


def _demographics(tables: dict[str, pl.DataFrame]) -> str:
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
        parts.append(_statistics_block(block, str(population), str(role), baseline))
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


def _statistics_block(
    block: pl.DataFrame, population: str, role: str, baseline: pl.DataFrame | None
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
        if classification == "nationality":
            rows = rows.sort("share_lower", descending=True, nulls_last=True).head(12)
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
            )
            for r in rows.iter_rows(named=True)
        ]
        name = f"shares_{population}_{role}_{classification}".replace(" ", "_").replace("-", "_")
        unknown_text = _n(unknown["persons"][0]) if unknown.height else "–"
        out.append(f"<h4>{escape(title)} — not recorded for {unknown_text}</h4>")
        out.append(charts.intervals(name, f"{title}: bounds of each share", items))
        out.append(
            "<details><summary>table</summary>"
            + _table(
                rows.with_columns(
                    lower=pl.col("share_lower").map_elements(_pct, return_dtype=pl.String),
                    upper=pl.col("share_upper").map_elements(_pct, return_dtype=pl.String),
                    known=pl.col("share_of_known").map_elements(_pct, return_dtype=pl.String),
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
                },
                {"persons", "denominator", "unknown"},
            )
            + "</details>"
        )
    return "".join(out)


def _method(settings: AuditSettings) -> str:
    control = settings.disclosure
    return (
        '<section id="method"><h2>How these figures are made</h2><ul>'
        f"<li>Disclosure control: counts from 1 to {control.threshold - 1} are suppressed (c); "
        f"the rest are rounded to the nearest {control.rounding_base} from their unrounded "
        "values, so published figures need not add up; true zeros are shown as 0; where a "
        "total would give a suppressed count away, a second count is suppressed too.</li>"
        "<li>A person is counted once, with what any of their linked records holds: a person "
        "whose ethnicity is recorded in any record is known.</li>"
        "<li>Self-defined ethnicity (18+1) and officer-defined (IC code) are different "
        "measurements and are never mixed; a phrase naming only a broad group (“Asian”) makes "
        "the group known, not the code.</li>"
        "<li>Child sexual offences: crimes recorded as sexual offences with a victim under 18, "
        "and duty-to-report reports.</li>"
        f"<li>The 95% intervals add chance variation to the bounds (Wilson, at confidence "
        f"{settings.confidence:.0%}); a population baseline is taken as exact.</li>"
        "</ul></section>"
    )


def _page(sections: list[str], settings: AuditSettings) -> str:
    css = (ASSETS / "report.css").read_text(encoding="utf-8")
    script = (ASSETS / "report.js").read_text(encoding="utf-8")
    today = dt.date.today().isoformat()
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
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>casebridge audit report</title><style>{css}</style></head><body>"
        "<h1>casebridge audit report</h1>"
        f'<p class="meta">Made {today}. Counts under disclosure control (threshold '
        f"{settings.disclosure.threshold}, rounded to {settings.disclosure.rounding_base}). "
        "Synthetic or real, this report holds no names, birth dates or addresses.</p>"
        f"<nav>{nav}</nav>{''.join(sections)}<script>{script}</script></body></html>"
    )
