"""The ``casebridge`` command: thin commands, each calling one library function.

Errors a user can fix arrive as :class:`casebridge.errors.CasebridgeError` and leave as one red
line and exit status 2; nothing else is caught, so a bug keeps its traceback.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from casebridge.audit.evaluate import AuditEvaluation, evaluate_audit
from casebridge.audit.report import render_report
from casebridge.audit.run import AuditSummary, audit
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.errors import CasebridgeError
from casebridge.ingest.run import SourceReport, ingest
from casebridge.link.evaluate import blocking_recall, evaluate_linkage, load_truth
from casebridge.link.explain import closest_record, explain_pair, read_model, waterfall_svg
from casebridge.link.judgements import record_judgement
from casebridge.link.model import blocking_rule_sql
from casebridge.link.prepare import prepare_link_input
from casebridge.link.review import uncertain_pairs
from casebridge.link.run import MODEL_FILE, LinkReport, link
from casebridge.networks.evaluate import evaluate_networks
from casebridge.networks.export import export_networks
from casebridge.networks.run import NetworkSummary, build_networks
from casebridge.screen.evaluate import evaluate_screening
from casebridge.screen.explain import explain_item
from casebridge.screen.rules import load_rules
from casebridge.screen.run import ScreenSummary, screen
from casebridge.synth.generate import STEPS, Summary, generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import Workspace, init_workspace, open_workspace

app = typer.Typer(
    help="Link, audit and screen multi-agency records of group-based child sexual exploitation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
T = TypeVar("T")


def fail(message: str) -> typer.Exit:
    """Print one red line and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def run_cleanly(action: Callable[[], T]) -> T:
    """Run ``action``, turning a user-fixable error into one line and exit status 2."""
    try:
        return action()
    except CasebridgeError as exc:
        raise fail(str(exc)) from None


@contextmanager
def stage_progress(title: str, total: int) -> Iterator[Callable[[str], None]]:
    """Yield a callback that advances a progress bar by one step each call."""
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(title, total=total)

        def advance(step: str) -> None:
            bar.update(task, advance=1, description=f"{title}: {step} done")

        yield advance


def run_stage(title: str, chosen: Workspace, action: Callable[[Engine], T]) -> T:
    """Run one stage on the workspace's database with a progress line; close it after."""
    engine = chosen.connect()
    try:
        with stage_progress(title, 1) as advance:
            result = run_cleanly(lambda: action(engine))
            advance(title)
    finally:
        engine.close()
    return result


def _print_summary(summary: Summary, out: Path, seconds: float) -> None:
    console.print(f"synthetic extracts and a ready workspace in {out}", highlight=False)
    table = Table()
    table.add_column("source")
    table.add_column("rows", justify="right")
    for source, rows in summary.rows.items():
        table.add_row(source, f"{rows:,}")
    console.print(table)
    console.print(
        f"{summary.people:,} people in {summary.person_records:,} person records; "
        f"{summary.networks} planted networks; {summary.review_targets:,} review targets; "
        f"{summary.quarantine_rows} rows to quarantine, {summary.set_aside_values} values to set "
        f"aside; {seconds:.1f} s",
        highlight=False,
    )


PeopleOption = Annotated[int, typer.Option("--people", help="How many people to generate.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")]
ProfileOption = Annotated[
    str,
    typer.Option(
        "--profile", help="A shipped profile's name (default, clean, messy) or a YAML path."
    ),
]


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Empty or new folder to write into.")],
    people: PeopleOption = 20_000,
    seed: SeedOption = 1,
    profile: ProfileOption = "default",
) -> None:
    """Write synthetic multi-agency extracts and their truth into a folder."""
    started = time.perf_counter()
    chosen = run_cleanly(lambda: load_profile(profile))
    with stage_progress("synth", len(STEPS)) as advance:
        summary = run_cleanly(lambda: generate(people, seed, chosen, out, advance))
    _print_summary(summary, out, time.perf_counter() - started)


WorkspaceOption = Annotated[Path, typer.Option("--workspace", "-w", help="The workspace folder.")]


@app.command()
def init(folder: Annotated[Path, typer.Argument(help="New or empty folder.")]) -> None:
    """Create a workspace: casebridge.toml, mappings/ with an example, and the database."""
    workspace = run_cleanly(lambda: init_workspace(folder))
    console.print(
        f"workspace created in {workspace.root}; add sources to casebridge.toml and a mapping "
        "for each (see mappings/example.yaml)",
        highlight=False,
    )


def _print_ingest(reports: list[SourceReport]) -> None:
    table = Table(title="ingest", title_justify="left")
    for column in ("source", "status", "read", "loaded", "quarantined", "set aside", "seconds"):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    for r in reports:
        table.add_row(
            r.source,
            r.status,
            f"{r.rows_read:,}",
            f"{r.rows_loaded:,}",
            f"{r.rows_quarantined:,}",
            f"{r.values_set_aside:,}",
            f"{r.seconds:.1f}",
        )
    console.print(table)


def _ingest(workspace_root: Path, sources: list[str] | None) -> list[SourceReport]:
    workspace = run_cleanly(lambda: open_workspace(workspace_root))
    total = len(sources or workspace.settings.sources)
    with stage_progress("ingest", total) as advance:
        reports = run_cleanly(lambda: ingest(workspace, sources or None, advance))
    _print_ingest(reports)
    return reports


@app.command("ingest")
def ingest_command(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Sources to load (default: all).")
    ] = None,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Load the workspace's sources into the standard; quarantine what cannot load."""
    _ingest(workspace, sources)


@app.command("unknowns")
def unknowns_command(
    workspace: WorkspaceOption = Path("."),
    output_format: Annotated[
        str, typer.Option("--format", help="table, csv or json (to stdout).")
    ] = "table",
) -> None:
    """List the distinct values the code lists did not know, most frequent first, with the
    workspace file (codes/*.csv) to add each to; re-ingest afterwards (docs/codes.md)."""
    import json  # this command's imports stay with it: the CLI's shared options are changing

    from rich.markup import escape

    from casebridge.ingest.unknowns import unknown_values

    if output_format not in ("table", "csv", "json"):
        raise fail(f"--format must be table, csv or json, got {output_format!r}")
    chosen = run_cleanly(lambda: open_workspace(workspace))
    engine = run_cleanly(chosen.connect)
    try:
        found = run_cleanly(lambda: unknown_values(engine, chosen))
    finally:
        engine.close()
    if output_format == "csv":
        typer.echo(found.write_csv(), nl=False)
    elif output_format == "json":
        typer.echo(json.dumps(found.to_dicts(), ensure_ascii=False, indent=2))
    else:
        table = Table(title="values the code lists do not know", title_justify="left")
        for column in found.columns:
            table.add_column(column, justify="right" if column == "count" else "left")
        for row in found.iter_rows():
            table.add_row(*(escape(str(value)) for value in row))
        Console(highlight=False).print(table)


@app.command()
def run(workspace: WorkspaceOption = Path(".")) -> None:
    """Run every stage on a workspace: ingest, link, networks, screen, audit, report."""
    seconds: dict[str, float] = {}

    def timed(stage: str, action: Callable[[], T]) -> T:
        started = time.perf_counter()
        result = action()
        seconds[stage] = time.perf_counter() - started
        return result

    reports = timed("ingest", lambda: _ingest(workspace, None))
    linked = timed("link", lambda: _link(workspace))
    networks = timed("networks", lambda: _networks(workspace))
    screened = timed("screen", lambda: _screen(workspace))
    audited = timed("audit", lambda: _audit(workspace, None))
    report = timed("report", lambda: _report(workspace, None))
    table = Table(title="casebridge run", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_row("rows read", f"{sum(r.rows_read for r in reports):,}")
    table.add_row("rows quarantined", f"{sum(r.rows_quarantined for r in reports):,}")
    table.add_row("person records", f"{linked.records:,}")
    table.add_row("persons", f"{linked.persons:,}")
    table.add_row("group-based networks", f"{networks.networks:,}")
    table.add_row("review items", f"{screened.items:,}")
    table.add_row("audit tables", f"{len(audited.tables):,} in {audited.out}")
    table.add_row("report", str(report))
    for stage, taken in seconds.items():
        table.add_row(f"time: {stage}", f"{taken:.1f} s")
    console.print(table)


networks_app = typer.Typer(help="Find group-based networks of suspects, and export them.")
app.add_typer(networks_app, name="networks")


@networks_app.callback(invoke_without_command=True)
def networks_command(ctx: typer.Context, workspace: WorkspaceOption = Path(".")) -> None:
    """Build the networks of suspects tied through shared victims or events."""
    if ctx.invoked_subcommand is None:
        _networks(workspace)


def _networks(workspace: Path) -> NetworkSummary:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    summary = run_stage(
        "networks",
        chosen,
        lambda engine: build_networks(engine, chosen.settings.networks, chosen.settings.vocabulary),
    )
    console.print(
        f"{summary.networks:,} group-based networks ({summary.members:,} members, "
        f"{summary.edges:,} ties); {summary.set_aside:,} set aside whose suspects may be one "
        f"man recorded twice; {summary.seconds:.1f} s",
        highlight=False,
    )
    return summary


screen_app = typer.Typer(help="Queue cases and people for review with explainable rules.")
app.add_typer(screen_app, name="screen")


@screen_app.callback(invoke_without_command=True)
def screen_command(ctx: typer.Context, workspace: WorkspaceOption = Path(".")) -> None:
    """Run the shipped rules, with the workspace's rules/*.yaml applied, into review_item."""
    if ctx.invoked_subcommand is None:
        _screen(workspace)


def _screen(workspace: Path) -> ScreenSummary:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    rules = run_cleanly(lambda: load_rules(chosen.root / "rules"))
    summary = run_stage(
        "screen", chosen, lambda engine: screen(engine, rules, chosen.settings.vocabulary)
    )
    fired = ", ".join(f"{rule} {count:,}" for rule, count in summary.per_rule.items())
    console.print(
        f"{summary.items:,} review items ({fired}); {summary.seconds:.1f} s", highlight=False
    )
    return summary


@screen_app.command("explain")
def screen_explain(
    item: Annotated[str, typer.Argument(help="A review item id, e.g. event:force_a:NP/2012/1.")],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Show a review item: every rule that fired, why, and the evidence records."""
    chosen = run_cleanly(lambda: open_workspace(workspace))
    engine = chosen.connect()
    try:
        shown = run_cleanly(lambda: explain_item(engine, item))
    finally:
        engine.close()
    Console().print(shown)


@networks_app.command("export")
def networks_export(
    to: Annotated[Path, typer.Option("--to", help="Folder to write the files into.")],
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help="graphml, gexf or csv (repeat for several; default all)."),
    ] = None,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Export the networks for Gephi (GraphML, GEXF) or link-analysis tools (CSV).

    Person-level data: person ids and roles, no names or birth dates."""
    chosen = run_cleanly(lambda: open_workspace(workspace))
    engine = chosen.connect()
    try:
        chosen_formats = formats or ["graphml", "gexf", "csv"]
        written = run_cleanly(lambda: export_networks(engine, to, chosen_formats))
    finally:
        engine.close()
    for path in written:
        console.print(f"wrote {path}", highlight=False)


link_app = typer.Typer(help="Resolve person records into persons, and review the matches.")
app.add_typer(link_app, name="link")


@link_app.callback(invoke_without_command=True)
def link_command(
    ctx: typer.Context,
    workspace: WorkspaceOption = Path("."),
    retrain: Annotated[
        bool, typer.Option(help="Train the model afresh instead of reusing the saved one.")
    ] = False,
) -> None:
    """Score pairs and cluster records into persons (training the model on the first run)."""
    if ctx.invoked_subcommand is None:
        _link(workspace, retrain)


def _link(workspace: Path, retrain: bool = False) -> LinkReport:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    with stage_progress("link", 1) as advance:
        report = run_cleanly(lambda: link(chosen, retrain))
        advance("link")
    console.print(
        f"{report.records:,} records → {report.persons:,} persons "
        f"({report.multi_record_persons:,} with several records); {report.scored_pairs:,} pairs "
        f"kept for review and explanation; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()),
        highlight=False,
    )
    if report.ties is not None:
        console.print(
            f"records tied to the same third person: weight {report.ties.agree_weight:+.1f} "
            f"(m {report.ties.m:.3f}, u {report.ties.u:.1e})",
            highlight=False,
        )
    return report


@link_app.command("review")
def link_review(
    workspace: WorkspaceOption = Path("."),
    limit: Annotated[int, typer.Option(help="How many pairs to list.")] = 20,
) -> None:
    """List uncertain pairs (the review band) not yet judged, each with why it scored so."""
    chosen = run_cleanly(lambda: open_workspace(workspace))
    engine = chosen.connect()
    try:
        pairs = run_cleanly(lambda: uncertain_pairs(engine, chosen, limit))
        model = run_cleanly(lambda: read_model(chosen.root / MODEL_FILE))
        for left, right, probability in pairs:
            console.print(
                f"[bold]{left}  ~  {right}[/]  probability {probability:.3f}", highlight=False
            )
            for name, level, weight in explain_pair(engine, model, left, right)[1:-1]:
                console.print(f"    {name:14} {weight:+6.2f}  {level}", highlight=False)
        if not pairs:
            console.print("no unjudged pairs in the review band", highlight=False)
    finally:
        engine.close()


@link_app.command("judge")
def link_judge(
    first: Annotated[str, typer.Argument(help="A record, as source:local_id.")],
    second: Annotated[str, typer.Argument(help="The other record.")],
    verdict: Annotated[str, typer.Option(help="same, different or unsure.")],
    reason: Annotated[str, typer.Option(help="Why, in words.")],
    by: Annotated[str, typer.Option("--by", help="Who is judging.")],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Record a judgement on a pair; it is honoured on the next 'casebridge link'."""
    if verdict not in ("same", "different", "unsure"):
        raise fail(f"--verdict must be same, different or unsure, got {verdict!r}")
    chosen = run_cleanly(lambda: open_workspace(workspace))
    engine = chosen.connect()
    try:
        run_cleanly(lambda: record_judgement(engine, first, second, verdict, reason, by))  # type: ignore[arg-type]
    finally:
        engine.close()
    console.print(f"recorded: {first} and {second} are {verdict}", highlight=False)


@link_app.command("explain")
def link_explain(
    first: Annotated[str, typer.Argument(help="A record, as source:local_id.")],
    second: Annotated[str, typer.Argument(help="The other record, or a person id.")],
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also write the weights as an SVG chart.")
    ] = None,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Show the per-comparison match weights that decided a pair (a waterfall in text); for a
    record and a person, the pair with the person's record it scored highest with."""
    chosen = run_cleanly(lambda: open_workspace(workspace))
    engine = chosen.connect()
    try:
        model = run_cleanly(lambda: read_model(chosen.root / MODEL_FILE))
        is_person = bool(engine.query("SELECT 1 FROM person WHERE person_id = ?", [second]))
        other = run_cleanly(lambda: closest_record(engine, first, second)) if is_person else second
        rows = run_cleanly(lambda: explain_pair(engine, model, first, other))
    finally:
        engine.close()
    title = f"{first} ~ {other}" + (f" (the record of {second} it scored highest with)"
                                    if is_person else "")  # fmt: skip
    table = Table(title=title, title_justify="left")
    for column in ("comparison", "level", "match weight"):
        table.add_column(column, justify="right" if column == "match weight" else "left")
    for name, level, weight in rows:
        table.add_row(name, level, f"{weight:+.2f}")
    console.print(table)
    if chart is not None:
        chart.write_text(waterfall_svg(title, rows), encoding="utf-8")
        console.print(f"chart: {chart}", highlight=False)


def _audit_settings(workspace: Workspace) -> AuditSettings:
    """The workspace's [audit] settings, with the review band from [link], the duty-report
    kinds from [vocabulary] and the population baseline's path taken from the workspace."""
    settings = workspace.settings.audit
    baseline = settings.population_baseline
    return settings.model_copy(
        update={
            "review_low": workspace.settings.link.review_low,
            "review_high": workspace.settings.link.review_high,
            "duty_report_kinds": workspace.settings.vocabulary.duty_report_kinds,
            "population_baseline": workspace.root / baseline if baseline else None,
        }
    )


def _audit(workspace: Path, out: Path | None) -> AuditSummary:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    settings = _audit_settings(chosen)
    summary = run_stage(
        "audit", chosen, lambda engine: audit(engine, settings, out or chosen.root / "audit")
    )
    recorded = summary.suspect_ethnicity_recorded
    console.print(
        f"{len(summary.tables)} audit tables (published under disclosure control, "
        f"{summary.suppressed_cells:,} cells suppressed) in {summary.out}; suspect ethnicity "
        f"recorded for {'-' if recorded is None else f'{recorded:.1%}'}; "
        f"{summary.seconds:.1f} s",
        highlight=False,
    )
    return summary


def _report(workspace: Path, out: Path | None) -> Path:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    settings = _audit_settings(chosen)
    model = chosen.root / MODEL_FILE
    written = run_stage(
        "report",
        chosen,
        lambda engine: render_report(
            engine, settings, model if model.is_file() else None,
            out or chosen.root / "report.html",
        ),
    )  # fmt: skip
    console.print(f"report: {written}", highlight=False)
    return written


@app.command("audit")
def audit_command(
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for CSV and Parquet (default W/audit).")
    ] = None,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Quality, linkage, casework and demographic tables, with bounds, under disclosure control.

    Data quality per source and year, the linkage summary, networks and the review queue, and
    shares of suspects and victims by ethnicity and nationality with their denominators and
    bounds; written to the database and as CSV and Parquet."""
    _audit(workspace, out)


@app.command("report")
def report_command(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The HTML file to write (default W/report.html)."),
    ] = None,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Write one self-contained HTML report (no personal data, no network needed to read it)."""
    _report(workspace, out)


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="A truth folder from 'casebridge synth'.")],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Score linkage, networks, screening and the audit against a synthetic truth folder.

    Linkage overall, per name-origin group and its blocking recall; network recovery; each
    rule's recall and precision; the audit's completeness and bounds against the true values."""
    chosen = run_cleanly(lambda: open_workspace(workspace))
    engine = chosen.connect()
    try:
        answers = run_cleanly(lambda: load_truth(truth))
        scores = run_cleanly(lambda: evaluate_linkage(engine, answers))
        prepare_link_input(engine)
        recall, true_pairs = blocking_recall(engine, answers, blocking_rule_sql())
        network_score = (
            run_cleanly(lambda: evaluate_networks(engine, truth))
            if engine.table_exists("network")
            else None
        )
        rule_scores = (
            run_cleanly(lambda: evaluate_screening(engine, truth))
            if engine.table_exists("review_item")
            else []
        )
        audit_score = (
            run_cleanly(
                lambda: evaluate_audit(engine, truth, chosen.settings.vocabulary.duty_report_kinds)
            )
            if engine.table_exists("audit_person_completeness_published")
            else None
        )
    finally:
        engine.close()
    table = Table(title="linkage against the truth", title_justify="left")
    for column in ("scope", "precision", "recall", "F1", "true pairs", "predicted pairs"):
        table.add_column(column, justify="left" if column == "scope" else "right")
    for scope, s in scores.items():
        table.add_row(scope, f"{s.precision:.4f}", f"{s.recall:.4f}", f"{s.f1:.4f}",
                      f"{s.true_pairs:,}", f"{s.predicted_pairs:,}")  # fmt: skip
    console.print(table)
    console.print(
        f"blocking recall: {recall:.4f} of {true_pairs:,} true pairs compared", highlight=False
    )
    if network_score is not None:
        n = network_score
        console.print(
            f"networks: {n.recovered} of {n.planted} planted recovered with at least 90 % of "
            f"their members ({n.recovered_share:.1%}); adjusted Rand index {n.ari:.4f}; "
            f"{n.found} found, {n.invented} matching no planted network",
            highlight=False,
        )
    if rule_scores:
        table = Table(title="screening against the planted review targets", title_justify="left")
        for column in ("rule", "targets", "found", "recall", "items", "correct", "precision"):
            table.add_column(column, justify="left" if column == "rule" else "right")
        for r in rule_scores:
            table.add_row(r.rule, f"{r.targets:,}", f"{r.found:,}", f"{r.recall:.3f}",
                          f"{r.items:,}", f"{r.correct:,}", f"{r.precision:.3f}")  # fmt: skip
        console.print(table)
    if audit_score is not None:
        _print_audit_score(audit_score)


def _print_audit_score(score: AuditEvaluation) -> None:
    table = Table(title="audit completeness against the truth", title_justify="left")
    for column in ("population", "role", "measure", "stated", "truth", "difference (points)"):
        table.add_column(column, justify="right" if column[0] in "std" else "left")

    def shown(value: float | None, form: str) -> str:
        return "-" if value is None else format(value, form)

    for row in score.completeness.iter_rows(named=True):
        table.add_row(
            row["population"], row["role"], row["measure"], shown(row["stated"], ".2%"),
            shown(row["truth"], ".2%"), shown(row["difference_points"], "+.2f"),
        )  # fmt: skip
    console.print(table)
    kinds = score.shares.select("population", "role", "classification").unique().sort("*")
    lines = []
    for population, role, classification in kinds.iter_rows():
        inside, total = score.contained(population, role, classification)
        lines.append(f"{population} {role} {classification}: {inside}/{total}")
    console.print("share bounds containing the true share: " + "; ".join(lines), highlight=False)


@app.command()
def demo(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the demo (default: a new temporary one)."),
    ] = None,
    people: PeopleOption = 20_000,
    seed: SeedOption = 1,
) -> None:
    """Make a synthetic workspace and run every stage on it."""
    folder = out or Path(tempfile.mkdtemp(prefix="casebridge-demo-"))
    synth(out=folder / "synthetic", people=people, seed=seed, profile="default")
    run(workspace=folder / "synthetic")
