"""What the command line promises whatever the data: -w anywhere, results on stdout in the
format asked for, a busy database as one line, every source tried, no markup eaten, owner-only
files. Driven end to end through typer's CliRunner on a small hand-written workspace."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casebridge.cli import app
from casebridge.engine import IN_USE, Engine

runner = CliRunner()
WIDE = {"COLUMNS": "400"}  # rich wraps at the terminal width; the checks read whole lines

# a police person extract in the shape of a crime system's nominal list (invented people)
PEOPLE = """\
PersonID,Forenames,Surname,DOB,Sex
P1,Aoife,Quennell,1990-02-14,F
P2,Tomasz,Wierzbicki,1985-11-30,M
P3,Aoife,Quennel,1990-02-14,F
"""
MAPPING = """\
source: {key}
format: csv
persons:
  - local_id: PersonID
    forenames: Forenames
    surname: {surname}
    date_of_birth: {{column: DOB, formats: ["%Y-%m-%d"]}}
    sex: Sex
"""
SOURCE = """
[[sources]]
key = "{key}"
agency = "Northshire Police"
kind = "police"
path = "{path}"
mapping = "{mapping}"
"""


def _add_source(root: Path, key: str, path: str, mapping: str, surname: str = "Surname") -> None:
    (root / "mappings").mkdir(exist_ok=True)
    target = root / mapping
    if not target.name.startswith("["):  # a mapping that is meant to be missing
        target.write_text(MAPPING.format(key=key, surname=surname), encoding="utf-8")
    with (root / "casebridge.toml").open("a", encoding="utf-8") as settings:
        settings.write(SOURCE.format(key=key, path=path, mapping=mapping))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with one good police source, not yet ingested."""
    root = tmp_path / "w"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    (root / "people.csv").write_text(PEOPLE, encoding="utf-8")
    _add_source(root, "force_a", "people.csv", "mappings/force_a.yaml")
    return root


@pytest.fixture
def ingested(workspace: Path) -> Path:
    assert runner.invoke(app, ["ingest", "-w", str(workspace)]).exit_code == 0
    return workspace


def _judgements(root: Path) -> list[tuple[str, ...]]:
    engine = Engine(root / "casebridge.duckdb", read_only=True)
    try:
        return [tuple(row) for row in engine.query("SELECT record_l, verdict FROM match_judgement")]
    finally:
        engine.close()


# -- 1. -w anywhere ----------------------------------------------------------------------------


JUDGE = ["judge", "force_a:P1", "force_a:P3", "--verdict", "different", "--reason", "twins",
         "--by", "analyst"]  # fmt: skip


@pytest.mark.parametrize(
    "where",
    [["-w", "{w}", "link", *JUDGE], ["link", "-w", "{w}", *JUDGE], ["link", *JUDGE, "-w", "{w}"]],
    ids=["before the group", "before the sub-command", "after the sub-command"],
)
def test_the_workspace_may_be_named_anywhere_on_the_line(
    ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: list[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"  # the current folder is another workspace
    assert runner.invoke(app, ["init", str(elsewhere)]).exit_code == 0
    monkeypatch.chdir(elsewhere)
    result = runner.invoke(app, [part.format(w=ingested) for part in where])
    assert result.exit_code == 0, result.output
    assert _judgements(ingested) == [("force_a:P1", "different")]
    assert not (elsewhere / "casebridge.duckdb").exists() or _judgements(elsewhere) == []


def test_two_different_workspaces_are_refused(ingested: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    result = runner.invoke(app, ["link", "-w", str(ingested), *JUDGE, "-w", str(other)])
    assert result.exit_code == 2
    assert "two workspaces given" in result.stderr
    assert _judgements(ingested) == []


# -- 2. results on stdout, in the format asked for -----------------------------------------------


def test_results_go_to_stdout_and_nothing_else_does(workspace: Path) -> None:
    result = runner.invoke(app, ["ingest", "-w", str(workspace)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "force_a" in result.stdout and "loaded" in result.stdout
    assert "force_a" not in result.stderr


def test_json_is_one_document_of_raw_values(workspace: Path) -> None:
    result = runner.invoke(app, ["ingest", "-w", str(workspace), "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)["ingest"]
    assert row["source"] == "force_a" and row["status"] == "loaded"
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (3, 3, 0)


def test_csv_is_a_named_section_with_a_header_of_keys(workspace: Path) -> None:
    result = runner.invoke(app, ["ingest", "-w", str(workspace), "--format", "csv"])
    assert result.exit_code == 0, result.output
    first, *rest = result.stdout.splitlines()
    assert first == "# ingest"
    [row] = list(csv.DictReader(io.StringIO("\n".join(rest))))
    assert row["source"] == "force_a" and row["rows_read"] == "3"
    assert "\x1b[" not in result.stdout  # no terminal codes


# -- 3. a busy database ---------------------------------------------------------------------------


HOLD = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read")
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def holder(ingested: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """Another process holding the workspace's database, for writing or for reading."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(ingested / "casebridge.duckdb"), request.param],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as held:  # fmt: skip
        assert held.stdout is not None and held.stdout.readline() == "held\n"
        try:
            yield ingested
        finally:
            assert held.stdin is not None
            held.stdin.close()  # the holder reads to the end of its input, then lets go
            held.wait(timeout=30)


@pytest.mark.parametrize("holder", ["write"], indirect=True)
@pytest.mark.parametrize(
    "command",
    [["ingest"], ["screen", "explain", "event:force_a:E1"], ["link", *JUDGE]],
    ids=["writer", "reader", "sub-command"],
)
def test_a_database_held_by_a_writer_is_one_clear_line(holder: Path, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "-w", str(holder)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {IN_USE}"


@pytest.mark.parametrize("holder", ["read"], indirect=True)
def test_readers_share_the_database(holder: Path) -> None:
    # the review queue is not built yet: the command opened the database and said so
    result = runner.invoke(app, ["screen", "explain", "event:force_a:E1", "-w", str(holder)])
    assert result.exit_code == 2 and "run 'casebridge screen' first" in result.output
    first = Engine(holder / "casebridge.duckdb", read_only=True)
    second = Engine(holder / "casebridge.duckdb", read_only=True)
    try:
        count = "SELECT count(*) FROM person_record"
        assert first.scalar(count) == second.scalar(count) == 3
    finally:
        first.close()
        second.close()


# -- 4. every source tried; 5. no markup eaten -----------------------------------------------------


def test_ingest_goes_on_past_failing_sources_and_says_why(workspace: Path) -> None:
    # a missing mapping whose name reads as terminal markup, and a column header that does too
    _add_source(workspace, "force_b", "people.csv", "mappings/[a-z]+.yaml")
    _add_source(workspace, "force_c", "people.csv", "mappings/force_c.yaml", "'[bold]Surname'")
    _add_source(workspace, "force_d", "people.csv", "mappings/force_d.yaml")
    result = runner.invoke(app, ["ingest", "-w", str(workspace)], env=WIDE)
    assert result.exit_code == 2
    assert "2 of 4 sources failed (force_b, force_c)" in result.stderr
    assert "[a-z]+.yaml" in result.stdout and "[bold]Surname" in result.stdout
    statuses = runner.invoke(app, ["ingest", "-w", str(workspace), "--format", "json"])
    by_source = {row["source"]: row for row in json.loads(statuses.stdout)["ingest"]}
    assert {key: row["status"] for key, row in by_source.items()} == {
        "force_a": "unchanged", "force_b": "failed", "force_c": "failed", "force_d": "unchanged",
    }  # fmt: skip
    assert "[a-z]+.yaml" in by_source["force_b"]["reason"]
    assert "[bold]Surname" in by_source["force_c"]["reason"]
    assert len(by_source["force_c"]["reason"].splitlines()) == 1
    engine = Engine(workspace / "casebridge.duckdb", read_only=True)
    try:
        loaded = engine.query("SELECT source, count(*) FROM person_record GROUP BY 1 ORDER BY 1")
        stages = engine.query("SELECT stage, inputs FROM run")
    finally:
        engine.close()
    assert loaded == [("force_a", 3), ("force_d", 3)]
    assert json.loads(stages[-1][1])["force_b"] == "failed"


def test_an_error_message_keeps_its_brackets(tmp_path: Path) -> None:
    missing = tmp_path / "[bold]x" / "[a-z]"
    result = runner.invoke(app, ["ingest", "-w", str(missing)], env=WIDE)
    assert result.exit_code == 2
    assert f"{missing} is not a casebridge workspace" in result.stderr


# -- 8. owner-only files ---------------------------------------------------------------------------


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root.parent)): stat.S_IMODE(path.stat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def test_a_workspace_is_readable_by_its_owner_only_whatever_the_umask(
    tmp_path: Path, loose_umask: None
) -> None:
    root = tmp_path / "w"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    modes = _modes(root)
    assert {"w", "w/mappings", "w/casebridge.toml", "w/casebridge.duckdb"} <= set(modes)
    assert all(mode == (0o700 if (tmp_path / p).is_dir() else 0o600)
               for p, mode in modes.items()), modes  # fmt: skip
    assert os.umask(0o022) == 0o022  # the command gave the umask back


def test_init_alone_restricts_its_files_too(tmp_path: Path, loose_umask: None) -> None:
    from casebridge.workspace import init_workspace

    init_workspace(tmp_path / "lib")
    assert set(_modes(tmp_path / "lib").values()) == {0o700, 0o600}


# -- 9. the docs name what the command line does -----------------------------------------------


def test_the_docs_describe_format_read_only_and_permissions() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "workspace.md").read_text(encoding="utf-8")
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for phrase in ("--format json", "--format csv", "read-only", "0700", "0600",
                   "in use by another casebridge process"):  # fmt: skip
        assert phrase in docs, phrase
    assert "--format" in readme and "-w" in readme


def test_the_format_option_is_documented_by_the_help() -> None:
    result = runner.invoke(app, ["ingest", "--help"], env=WIDE)
    assert "--format" in result.stdout and "table, csv or json" in result.stdout
