"""The ``casebridge`` command: thin commands, each calling one library function.

Errors a user can fix arrive as :class:`casebridge.errors.CasebridgeError` and leave as one red
line and exit status 2; nothing else is caught, so a bug keeps its traceback.

Results go to standard output (as a table, CSV or JSON: ``--format``, see
:mod:`casebridge.output`); progress and errors to standard error. Nothing printed is read as
terminal markup. ``-w/--workspace`` may come before or after a sub-command. A workspace holds
personal data, so everything a command creates is readable by its owner only (umask 077).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from casebridge import cli_results as results
from casebridge.audit.evaluate import evaluate_audit
from casebridge.audit.report import INTERNAL_FILE, ReportContext, render_report
from casebridge.audit.run import AuditSummary, audit
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.errors import CasebridgeError
from casebridge.ingest.run import SourceReport, ingest
from casebridge.ingest.unknowns import unknown_values
from casebridge.link.evaluate import (
    blocking_recall,
    constraint_breaches,
    evaluate_linkage,
    load_truth,
    records_not_linked,
)
from casebridge.link.explain import closest_record, explain_pair, read_model, waterfall_svg
from casebridge.link.export import export_links
from casebridge.link.judgements import record_judgement
from casebridge.link.prepare import prepare_link_input
from casebridge.link.review import uncertain_pairs
from casebridge.link.run import MODEL_FILE, LinkReport, link
from casebridge.link.saved import blocking_rules_in_use, duplicate_free_sources, freeze_model
from casebridge.networks.evaluate import evaluate_networks
from casebridge.networks.export import export_networks
from casebridge.networks.run import NetworkSummary, build_networks
from casebridge.output import Emitter, OutputFormat, plain_console
from casebridge.screen.evaluate import evaluate_screening
from casebridge.screen.explain import explain_item
from casebridge.screen.rules import load_rules
from casebridge.screen.run import ScreenSummary, screen
from casebridge.standard.tables import record_run
from casebridge.synth.generate import STEPS, Summary, generate
from casebridge.synth.profile import load_profile
from casebridge.web.snapshot import publish_snapshot
from casebridge.workspace import (
    EngineName,
    Workspace,
    engine_chosen,
    init_workspace,
    open_workspace,
)

app = typer.Typer(
    help="Link, audit and screen multi-agency records of group-based child sexual exploitation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = plain_console(stderr=False)  # results
notes = plain_console(stderr=True)  # progress, notes and errors
T = TypeVar("T")
OWNER_ONLY_UMASK = 0o077


def fail(message: str) -> typer.Exit:
    """Print one red line and return the exit to raise."""
    notes.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)
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
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=notes, transient=True) as bar:
        task = bar.add_task(title, total=total)

        def advance(step: str) -> None:
            bar.update(task, advance=1, description=f"{title}: {step} done")

        yield advance


def run_stage(title: str, chosen: Workspace, action: Callable[[Engine], T]) -> T:
    """Run one stage on the workspace's database with a progress line; close it after."""
    engine = run_cleanly(chosen.connect)
    try:
        with stage_progress(title, 1) as advance:
            result = run_cleanly(lambda: action(engine))
            advance(title)
    finally:
        engine.close()
    return result


def publish(workspace: Path) -> None:
    """Publish the workspace's results for the review service to read (docs/service.md,
    "Snapshots"): after every command that changes them, once its connection is closed."""
    run_cleanly(lambda: publish_snapshot(workspace))


def read_only(chosen: Workspace) -> Engine:
    """Open the workspace's database read-only: other readers may run at the same time."""
    return run_cleanly(lambda: chosen.connect(read_only=True))


def _print_summary(summary: Summary, out: Path, seconds: float) -> None:
    console.print(f"synthetic extracts and a ready workspace in {out}")
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
        soft_wrap=True,
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


WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="The workspace folder (default: the current one); before or after the sub-command.",
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="How to print the results: table, csv or json."),
]


def workspace_of(ctx: typer.Context, given: Path | None) -> Path:
    """The workspace named by ``-w`` wherever on the line it came (``casebridge -w W link
    judge``, ``casebridge link -w W judge``, ``casebridge link judge -w W``); two different
    folders are refused. The current folder when none is named."""
    chosen: dict[str, Path] = ctx.ensure_object(dict)
    earlier = chosen.get("workspace")
    if given is not None and earlier is not None and given.resolve() != earlier.resolve():
        raise fail(f"two workspaces given ({earlier} and {given}); name one with -w")
    if given is not None:
        chosen["workspace"] = given
    return chosen.get("workspace", Path("."))


@app.callback()
def main(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    # everything a command creates may hold personal data: readable by its owner only
    previous = os.umask(OWNER_ONLY_UMASK)
    ctx.call_on_close(lambda: os.umask(previous))
    workspace_of(ctx, workspace)


@app.command()
def init(folder: Annotated[Path, typer.Argument(help="New or empty folder.")]) -> None:
    """Create a workspace: casebridge.toml, mappings/ with an example, and the database."""
    workspace = run_cleanly(lambda: init_workspace(folder))
    console.print(
        f"workspace created in {workspace.root}; add sources to casebridge.toml and a mapping "
        "for each (see mappings/example.yaml)",
        soft_wrap=True,
    )


def _ingest(workspace_root: Path, sources: list[str] | None) -> list[SourceReport]:
    workspace = run_cleanly(lambda: open_workspace(workspace_root))
    total = len(sources or workspace.settings.sources)
    with stage_progress("ingest", total) as advance:
        return run_cleanly(lambda: ingest(workspace, sources or None, advance, keep_going=True))


def _refuse_failed_sources(reports: list[SourceReport], out: Emitter) -> None:
    """After the summary is out, exit 2 with one line if any source failed."""
    failed = [r.source for r in reports if r.status == "failed"]
    if failed:
        out.finish()
        raise fail(
            f"{len(failed)} of {len(reports)} sources failed ({', '.join(failed)}); the "
            "summary says why; the other sources loaded"
        )


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    sources: Annotated[
        list[str] | None, typer.Argument(help="Sources to load (default: all).")
    ] = None,
    workspace: WorkspaceOption = None,
    form: FormatOption = OutputFormat.table,
) -> None:
    """Load the workspace's sources into the standard; quarantine what cannot load.

    A source that fails is left as it was and the others still load; the summary gives each
    failure's reason and the exit status is 2."""
    out = Emitter(form, console)
    chosen = workspace_of(ctx, workspace)
    reports = _ingest(chosen, sources)
    publish(chosen)
    out.add(results.ingest_result(reports))
    _refuse_failed_sources(reports, out)
    out.finish()


@app.command("unknowns")
def unknowns_command(
    ctx: typer.Context, workspace: WorkspaceOption = None, form: FormatOption = OutputFormat.table
) -> None:
    """List the distinct values the code lists did not know, most frequent first, with the
    workspace file (codes/*.csv) to add each to; re-ingest afterwards (docs/codes.md)."""
    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    engine = run_cleanly(lambda: chosen.connect(read_only=True))
    try:
        found = run_cleanly(lambda: unknown_values(engine, chosen))
    finally:
        engine.close()
    out = Emitter(form, console)
    out.add(results.unknowns_result(found))
    out.finish()


@app.command()
def run(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    form: FormatOption = OutputFormat.table,
    engine: Annotated[
        EngineName | None, typer.Option(help="Run on this engine, whatever casebridge.toml says.")
    ] = None,
) -> None:
    """Run every stage on a workspace: ingest, link, networks, screen, audit, report."""
    with engine_chosen("spark" if engine == EngineName.spark else "duckdb" if engine else None):
        _run(workspace_of(ctx, workspace), Emitter(form, console))


def _run(workspace: Path, out: Emitter) -> None:
    """Every stage in turn, each result printed as it comes (or gathered for CSV and JSON)."""
    seconds: dict[str, float] = {}

    def timed(stage: str, action: Callable[[], T]) -> T:
        started = time.perf_counter()
        result = action()
        seconds[stage] = time.perf_counter() - started
        return result

    reports = timed("ingest", lambda: _ingest(workspace, None))
    out.add(results.ingest_result(reports))
    _refuse_failed_sources(reports, out)
    linked = timed("link", lambda: _link(workspace))
    out.add(results.link_result(linked))
    networks = timed("networks", lambda: _networks(workspace))
    out.add(results.networks_result(networks))
    screened = timed("screen", lambda: _screen(workspace))
    out.add(results.screen_result(screened))
    audited = timed("audit", lambda: _audit(workspace, None))
    out.add(results.audit_result(audited))
    report = timed("report", lambda: _report(workspace, None))
    publish(workspace)
    out.add(results.report_result(report))
    summary = results.run_result(reports, linked, networks, screened, audited, report, seconds)
    out.add(summary)
    out.finish()


networks_app = typer.Typer(help="Find group-based networks of suspects, and export them.")
app.add_typer(networks_app, name="networks")


@networks_app.callback(invoke_without_command=True)
def networks_command(
    ctx: typer.Context, workspace: WorkspaceOption = None, form: FormatOption = OutputFormat.table
) -> None:
    """Build the networks of suspects tied through shared victims or events."""
    chosen = workspace_of(ctx, workspace)
    if ctx.invoked_subcommand is None:
        out = Emitter(form, console)
        out.add(results.networks_result(_networks(chosen)))
        publish(chosen)
        out.finish()


def _networks(workspace: Path) -> NetworkSummary:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    return run_stage(
        "networks",
        chosen,
        lambda engine: build_networks(engine, chosen.settings.networks, chosen.settings.vocabulary),
    )


screen_app = typer.Typer(help="Queue cases and people for review with explainable rules.")
app.add_typer(screen_app, name="screen")


@screen_app.callback(invoke_without_command=True)
def screen_command(
    ctx: typer.Context, workspace: WorkspaceOption = None, form: FormatOption = OutputFormat.table
) -> None:
    """Run the shipped rules, with the workspace's rules/*.yaml applied, into review_item."""
    chosen = workspace_of(ctx, workspace)
    if ctx.invoked_subcommand is None:
        out = Emitter(form, console)
        out.add(results.screen_result(_screen(chosen)))
        publish(chosen)
        out.finish()


def _screen(workspace: Path) -> ScreenSummary:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    rules = run_cleanly(lambda: load_rules(chosen.root / "rules"))
    return run_stage(
        "screen", chosen, lambda engine: screen(engine, rules, chosen.settings.vocabulary)
    )


@screen_app.command("explain")
def screen_explain(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="A review item id, e.g. event:force_a:NP/2012/1.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Show a review item: every rule that fired, why, and the evidence records (read-only)."""
    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    engine = read_only(chosen)
    try:
        shown = run_cleanly(lambda: explain_item(engine, item))
    finally:
        engine.close()
    console.print(shown)


@networks_app.command("export")
def networks_export(
    ctx: typer.Context,
    to: Annotated[Path, typer.Option("--to", help="Folder to write the files into.")],
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help="graphml, gexf or csv (repeat for several; default all)."),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Export the networks for Gephi (GraphML, GEXF) or i2 and other link-analysis tools (CSV:
    people, crimes and reports as entities, dated links, and the i2 import specification).

    Person-level data: person ids and roles, no names or birth dates. Each file says so in
    its first line and is readable by its owner only; the export is recorded in the run table."""
    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    chosen_formats = formats or ["graphml", "gexf", "csv"]
    written = run_stage(
        "export", chosen, lambda engine: export_networks(engine, to, chosen_formats)
    )
    for path in written:
        console.print(f"wrote {path}")


link_app = typer.Typer(help="Resolve person records into persons, and review the matches.")
app.add_typer(link_app, name="link")


@link_app.callback(invoke_without_command=True)
def link_command(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    retrain: Annotated[
        bool, typer.Option(help="Train the model afresh instead of reusing the saved one.")
    ] = False,
    form: FormatOption = OutputFormat.table,
) -> None:
    """Score pairs and cluster records into persons (training the model on the first run)."""
    chosen = workspace_of(ctx, workspace)
    if ctx.invoked_subcommand is None:
        out = Emitter(form, console)
        out.add(results.link_result(_link(chosen, retrain)))
        publish(chosen)
        out.finish()


def _link(workspace: Path, retrain: bool = False) -> LinkReport:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    with stage_progress("link", 1) as advance:
        report = run_cleanly(lambda: link(chosen, retrain))
        advance("link")
    return report


@link_app.command("review")
def link_review(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    limit: Annotated[int, typer.Option(help="How many pairs to list.")] = 20,
    form: FormatOption = OutputFormat.table,
) -> None:
    """List uncertain pairs (the review band) not yet judged, each with why it scored so
    (read-only)."""
    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    engine = read_only(chosen)
    try:
        pairs = run_cleanly(lambda: uncertain_pairs(engine, chosen, limit))
        model = run_cleanly(lambda: read_model(chosen.root / MODEL_FILE))
        weights = [explain_pair(engine, model, left, right)[1:-1] for left, right, _ in pairs]
    finally:
        engine.close()
    out = Emitter(form, console)
    out.add(results.review_result(pairs, weights))
    out.finish()


@link_app.command("judge")
def link_judge(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(help="A record, as source:local_id.")],
    second: Annotated[str, typer.Argument(help="The other record.")],
    verdict: Annotated[str, typer.Option(help="same, different or unsure.")],
    reason: Annotated[str, typer.Option(help="Why, in words.")],
    by: Annotated[str, typer.Option("--by", help="Who is judging.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Record a judgement on a pair; it is honoured on the next 'casebridge link'."""
    if verdict not in ("same", "different", "unsure"):
        raise fail(f"--verdict must be same, different or unsure, got {verdict!r}")
    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    engine = run_cleanly(chosen.connect)
    try:
        run_cleanly(lambda: record_judgement(engine, first, second, verdict, reason, by))  # type: ignore[arg-type]
    finally:
        engine.close()
    console.print(f"recorded: {first} and {second} are {verdict}", soft_wrap=True)


@link_app.command("export")
def link_export(
    ctx: typer.Context,
    to: Annotated[
        Path | None,
        typer.Option("--to", help="The file to write (default W/person_link.csv or .parquet)."),
    ] = None,
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    workspace: WorkspaceOption = None,
) -> None:
    """Write each record's source, local id, person id and link probability (CSV or Parquet).

    Person-level data: the file says so (the first line of a CSV, the metadata of a Parquet
    file), is readable by its owner only, and the export is recorded in the run table."""
    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    target = to or chosen.root / f"person_link.{file_format}"
    written = run_stage("export", chosen, lambda engine: export_links(engine, target, file_format))
    console.print(f"wrote {written}", soft_wrap=True)


@link_app.command("freeze")
def link_freeze(
    ctx: typer.Context,
    to: Annotated[Path, typer.Option("--to", help="The file to write the model to.")],
    overwrite: Annotated[bool, typer.Option(help="Replace the file if it exists.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Copy the workspace's trained model to a file, for another workspace to link with as it
    is (model = "FILE" in its [link])."""
    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    written = run_cleanly(lambda: freeze_model(chosen, to, overwrite))
    console.print(f"wrote {written}", soft_wrap=True)


@link_app.command("explain")
def link_explain(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(help="A record, as source:local_id.")],
    second: Annotated[str, typer.Argument(help="The other record, or a person id.")],
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also write the weights as an SVG chart.")
    ] = None,
    workspace: WorkspaceOption = None,
    form: FormatOption = OutputFormat.table,
) -> None:
    """Show the per-comparison match weights that decided a pair (a waterfall in text); for a
    record and a person, the pair with the person's record it scored highest with
    (read-only)."""
    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    engine = read_only(chosen)
    try:
        model = run_cleanly(lambda: read_model(chosen.root / MODEL_FILE))
        is_person = bool(engine.query("SELECT 1 FROM person WHERE person_id = ?", [second]))
        other = run_cleanly(lambda: closest_record(engine, first, second)) if is_person else second
        rows = run_cleanly(lambda: explain_pair(engine, model, first, other))
    finally:
        engine.close()
    title = f"{first} ~ {other}" + (f" (the record of {second} it scored highest with)"
                                    if is_person else "")  # fmt: skip
    out = Emitter(form, console)
    out.add(results.explain_result(title, rows))
    out.finish()
    if chart is not None:
        chart.write_text(waterfall_svg(title, rows), encoding="utf-8")
        notes.print(f"chart: {chart}", soft_wrap=True)


def _audit_settings(workspace: Workspace) -> AuditSettings:
    """The workspace's [audit] settings, completed from [link] and [vocabulary]."""
    return workspace.audit_settings()


def _audit(workspace: Path, out: Path | None) -> AuditSummary:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    settings = _audit_settings(chosen)
    return run_stage(
        "audit", chosen, lambda engine: audit(engine, settings, out or chosen.root / "audit")
    )


def _report(workspace: Path, out: Path | None, internal: bool = False) -> Path:
    chosen = run_cleanly(lambda: open_workspace(workspace))
    settings = _audit_settings(chosen)
    model = chosen.root / MODEL_FILE
    context = ReportContext(chosen.settings.name, chosen.root / "rules", internal)

    def write(engine: Engine) -> Path:
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        written = render_report(
            engine, settings, model if model.is_file() else None,
            out or chosen.root / (INTERNAL_FILE if internal else "report.html"), context,
        )  # fmt: skip
        _record_report_run(engine, started, written, internal)
        return written

    return run_stage("report", chosen, write)


def _record_report_run(
    engine: Engine, started: dt.datetime, written: Path, internal: bool = False
) -> None:
    """The report's row in ``run``, as every stage writes one (the internal one says so)."""
    parameters = {"out": str(written)} | ({"internal": True} if internal else {})
    record_run(engine, "report", started, json.dumps(parameters), "{}", 0, 1)


@app.command("audit")
def audit_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for CSV and Parquet (default W/audit).")
    ] = None,
    workspace: WorkspaceOption = None,
    form: FormatOption = OutputFormat.table,
) -> None:
    """Quality, linkage, casework and demographic tables, with bounds, under disclosure control.

    Data quality per source and year, the linkage summary, networks and the review queue, and
    shares of suspects and victims by ethnicity and nationality with their denominators and
    bounds; written to the database and as CSV and Parquet."""
    emitter = Emitter(form, console)
    chosen = workspace_of(ctx, workspace)
    emitter.add(results.audit_result(_audit(chosen, out)))
    publish(chosen)
    emitter.finish()


@app.command("report")
def report_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The HTML file to write (default W/report.html; with --internal, "
            "W/report-internal.html).",
        ),
    ] = None,
    internal: Annotated[
        bool,
        typer.Option(
            "--internal",
            help="Write the internal version instead: exact counts, no disclosure control, "
            "marked INTERNAL on every section, to a file of its own that only its owner can "
            "read. For people inside the workspace; never publish it.",
        ),
    ] = False,
    workspace: WorkspaceOption = None,
    form: FormatOption = OutputFormat.table,
) -> None:
    """Write one self-contained HTML report (no personal data, no network needed to read it)."""
    emitter = Emitter(form, console)
    emitter.add(results.report_result(_report(workspace_of(ctx, workspace), out, internal)))
    emitter.finish()


@app.command()
def evaluate(
    ctx: typer.Context,
    truth: Annotated[
        Path,
        typer.Option(
            "--truth",
            help="A truth folder from 'casebridge synth', or a labelled sample file (CSV or "
            "Parquet: source, local_id, person_id, optional group).",
        ),
    ],
    workspace: WorkspaceOption = None,
    form: FormatOption = OutputFormat.table,
) -> None:
    """Score linkage, networks, screening and the audit against a synthetic truth folder, or
    linkage alone against a labelled sample.

    Linkage overall, per name-origin group (or the sample's groups), for adults known by age
    only (where the truth marks them), its blocking recall and the persons that break its
    constraints (two suspects of one event, conflicting birth dates); network recovery; each
    rule's recall and precision; the audit's completeness and bounds against the true values.
    A labelled sample is scored on pairs among its own records; how many of its records the
    workspace's persons do not hold (left out) is printed first. Reads the workspace only, so
    it may run beside other readers."""
    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    out = Emitter(form, console)
    engine = read_only(chosen)
    try:
        answers = run_cleanly(lambda: load_truth(truth))
        scores = run_cleanly(lambda: evaluate_linkage(engine, answers))
        if truth.is_file():
            missing = records_not_linked(engine, answers)
            out.add(results.sample_result(answers.height, missing))
        out.add(results.linkage_result(scores))
        prepare_link_input(engine, duplicate_free_sources(chosen))
        rules = blocking_rules_in_use(chosen, engine)
        out.add(results.blocking_result(*blocking_recall(engine, answers, rules)))
        threshold = chosen.settings.link.threshold
        out.add(results.constraints_result(*constraint_breaches(engine, answers, threshold)))
        if truth.is_dir():  # a labelled sample scores linkage only
            _score_stages(engine, chosen, truth, out)
    finally:
        engine.close()
    out.finish()


def _score_stages(engine: Engine, chosen: Workspace, truth: Path, out: Emitter) -> None:
    """Networks, screening and the audit against a synthetic truth folder, where they ran."""
    if engine.table_exists("network"):
        out.add(results.network_score_result(run_cleanly(lambda: evaluate_networks(engine, truth))))
    if engine.table_exists("review_item"):
        rule_scores = run_cleanly(lambda: evaluate_screening(engine, truth))
        if rule_scores:
            out.add(results.screening_result(rule_scores))
    if engine.table_exists("audit_person_completeness_published"):
        kinds = chosen.settings.vocabulary.duty_report_kinds
        audit_score = run_cleanly(lambda: evaluate_audit(engine, truth, kinds))
        for result in results.audit_score_results(audit_score):
            out.add(result)


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    insecure_cookies: Annotated[
        bool,
        typer.Option(help="Send cookies over plain HTTP (loopback only; docs/service.md)."),
    ] = False,
) -> None:
    """Serve the review workspace: a JSON API (and pages) behind a sign-in (docs/service.md)."""
    from casebridge.web.serve import serve_workspace

    chosen = run_cleanly(lambda: open_workspace(workspace_of(ctx, workspace)))
    run_cleanly(lambda: serve_workspace(chosen.root, host, port, not insecure_cookies))


@app.command()
def demo(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the demo (default: a new temporary one)."),
    ] = None,
    people: PeopleOption = 20_000,
    seed: SeedOption = 1,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then serve it on 127.0.0.1 with an account of each role (docs/service.md).",
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="Port to serve the demo on.")] = 8000,
) -> None:
    """Make a synthetic workspace and run every stage on it."""
    folder = out or Path(tempfile.mkdtemp(prefix="casebridge-demo-"))
    synth(out=folder / "synthetic", people=people, seed=seed, profile="default")
    _run(folder / "synthetic", Emitter(OutputFormat.table, console))
    if serve:
        from casebridge.web.serve import serve_demo

        run_cleanly(lambda: serve_demo(folder / "synthetic", "127.0.0.1", port))


trail_app = typer.Typer(help="Check, sign and export the service's tamper-evident access trail.")
app.add_typer(trail_app, name="trail")
PublicKeysOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--public-key",
        help="A trail public key (PEM) to check signatures with; repeat for retired keys. "
        "Default: the workspace's own keys.",
    ),
]
CheckpointFilesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--checkpoint",
        help="A checkpoint exported earlier ('trail checkpoint --out'); repeat for several.",
    ),
]
OutFileOption = Annotated[
    Path | None, typer.Option("--out", help="The file to write (default: standard output).")
]


@trail_app.callback()
def trail_command(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """The service's access trail: every access, hash-chained, with signed checkpoints."""
    workspace_of(ctx, workspace)


@trail_app.command("verify")
def trail_verify(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    public_keys: PublicKeysOption = None,
    checkpoints: CheckpointFilesOption = None,
    form: FormatOption = OutputFormat.table,
) -> None:
    """Recompute the chain and the Merkle roots; report every edited, deleted, inserted or
    reordered entry and every bad checkpoint, and prove each checkpoint a prefix of the log.
    Exit status 1 when anything fails."""
    from casebridge.web import trail_admin

    root = workspace_of(ctx, workspace)
    report = run_cleanly(
        lambda: trail_admin.verify_workspace(root, public_keys or [], checkpoints or [])
    )
    out = Emitter(form, console)
    out.add(trail_admin.verify_result(report))
    out.finish()
    if report.failed:
        raise typer.Exit(code=1)


@trail_app.command("export")
def trail_export(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    form: Annotated[
        OutputFormat, typer.Option("--format", help="csv or json (table for a quick look).")
    ] = OutputFormat.csv,
) -> None:
    """Print every entry of the trail, as stored, for auditors (ids only, never names)."""
    from casebridge.web import trail_admin

    entries = run_cleanly(lambda: trail_admin.export_entries(workspace_of(ctx, workspace)))
    out = Emitter(form, console)
    out.add(trail_admin.entries_result(entries))
    out.finish()


@trail_app.command("checkpoint")
def trail_checkpoint(
    ctx: typer.Context, workspace: WorkspaceOption = None, out: OutFileOption = None
) -> None:
    """Sign a checkpoint of the trail now, store it, and write it as a signed note: keep the
    file off this machine, and give it to 'trail verify --checkpoint' later."""
    from casebridge.web import trail_admin

    root = workspace_of(ctx, workspace)
    checkpoint, public = run_cleanly(lambda: trail_admin.checkpoint_workspace(root))
    note = checkpoint.note(public)
    if out is None:
        console.file.write(note)
        return
    out.write_text(note, encoding="utf-8")
    notes.print(f"wrote a checkpoint of {checkpoint.tree_size} entries to {out}", soft_wrap=True)


@trail_app.command("public-key")
def trail_public_key(
    ctx: typer.Context, workspace: WorkspaceOption = None, out: OutFileOption = None
) -> None:
    """Write the trail's public key (PEM), for whoever verifies checkpoints from outside."""
    from casebridge.web import trail_admin
    from casebridge.web.checkpoints import public_pem

    public = run_cleanly(lambda: trail_admin.public_key_of(workspace_of(ctx, workspace)))
    for line in trail_admin.key_lines(public):
        notes.print(line, soft_wrap=True)
    if out is None:
        console.file.write(public_pem(public))
    else:
        out.write_text(public_pem(public), encoding="utf-8")


@trail_app.command("rotate-key")
def trail_rotate_key(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """Sign a last checkpoint with the current key, keep its public half beside the new key,
    delete its private half, and sign a first checkpoint with a new key."""
    from casebridge.web import trail_admin
    from casebridge.web.checkpoints import key_id

    old, new = run_cleanly(lambda: trail_admin.rotate_workspace_key(workspace_of(ctx, workspace)))
    console.print(f"retired key {key_id(old)}; signing with key {key_id(new)}", soft_wrap=True)
