"""The command line end to end: good runs print a summary, bad arguments one line and exit 2."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casebridge.cli import app
from casebridge.engine import Engine

runner = CliRunner()


def test_synth_writes_extracts_and_says_what_it_wrote(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["synth", "--people", "500", "--seed", "2", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "manifest.json").is_file()
    assert "person records" in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--people", "-5"], "--people must be at least 100"),
        (["--seed", "-1"], "--seed must be zero or more"),
        (["--profile", "nope"], "unknown profile 'nope'"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = runner.invoke(app, ["synth", "--out", str(tmp_path / "o"), *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_unwritable_or_occupied_output_is_refused(tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "something").write_text("x")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for out, message in ((occupied, "is not empty"), (a_file, "is not a folder"),
                         (a_file / "below", "cannot create")):  # fmt: skip
        result = runner.invoke(app, ["synth", "--people", "100", "--out", str(out)])
        assert result.exit_code == 2, out
        assert message in result.output
        assert "Traceback" not in result.output


def test_demo_runs_the_generator(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--people", "300"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "synthetic" / "extracts").is_dir()


def test_link_commands_explain_their_mistakes(tmp_path: Path) -> None:
    out = tmp_path / "w"
    assert runner.invoke(app, ["synth", "--people", "400", "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["evaluate", "-w", str(out), "--truth", str(out / "truth")])
    assert result.exit_code == 2 and "has no database yet" in result.output
    assert runner.invoke(app, ["ingest", "-w", str(out)]).exit_code == 0
    result = runner.invoke(app, ["evaluate", "-w", str(out), "--truth", str(out / "truth")])
    assert result.exit_code == 2 and "run 'casebridge link' first" in result.output
    assert runner.invoke(app, ["run", "-w", str(out)]).exit_code == 0
    result = runner.invoke(
        app, ["link", "judge", "force_a:nope", "force_a:other", "--verdict", "same",
              "--reason", "x", "--by", "y", "-w", str(out)],
    )  # fmt: skip
    assert result.exit_code == 2 and "no such record" in result.output
    result = runner.invoke(
        app, ["link", "judge", "a", "b", "--verdict", "maybe", "--reason", "x", "--by", "y",
              "-w", str(out)],
    )  # fmt: skip
    assert result.exit_code == 2 and "--verdict must be" in result.output
    result = runner.invoke(app, ["evaluate", "-w", str(out), "--truth", str(out / "truth")])
    assert result.exit_code == 0 and "blocking recall" in result.stdout
    result = runner.invoke(
        app, ["evaluate", "-w", str(out), "--truth", str(out / "truth"), "--format", "json"]
    )
    scores = json.loads(result.stdout)  # the scores and nothing else on stdout
    assert scores["linkage"][0]["scope"] == "all" and 0 < scores["linkage"][0]["f1"] <= 1
    assert {"blocking", "networks", "screening", "audit_completeness"} <= set(scores)
    assert runner.invoke(app, ["link", "review", "-w", str(out), "--limit", "3"]).exit_code == 0
    result = runner.invoke(app, ["link", "review", "-w", str(out), "--limit", "3",
                                 "--format", "csv"])  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[0] == "# review"
    assert lines[1] == "record_l,record_r,probability,comparison,level,match_weight"


def test_later_stage_commands(tmp_path: Path) -> None:
    # 2,000 people: small enough that no duty report is planted and EM underflows at first
    out = tmp_path / "w"
    assert runner.invoke(app, ["synth", "--people", "2000", "--out", str(out)]).exit_code == 0
    previous = os.umask(0o022)  # what the commands create is still for their owner only
    try:
        result = runner.invoke(app, ["run", "-w", str(out), "--format", "json"])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    stages = json.loads(result.stdout)
    assert list(stages) == ["ingest", "link", "networks", "screen", "audit", "report", "run"]
    assert {row["measure"] for row in stages["run"]} >= {"review items", "persons"}
    assert (out / "report.html").is_file()
    for made in (out / "report.html", out / "casebridge.duckdb", *(out / "audit").iterdir()):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600, made
    assert stat.S_IMODE((out / "audit").stat().st_mode) == 0o700
    exported = tmp_path / "graphs"
    result = runner.invoke(
        app, ["networks", "export", "--to", str(exported), "--format", "gexf", "-w", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert [p.suffix for p in exported.iterdir()] == [".gexf"]
    assert stat.S_IMODE((exported / "networks.gexf").stat().st_mode) == 0o600
    result = runner.invoke(app, ["screen", "explain", "event:nothing", "-w", str(out)])
    assert result.exit_code == 2 and "error" in result.output
    engine = Engine(out / "casebridge.duckdb")
    try:
        stages = {stage for (stage,) in engine.query("SELECT stage FROM run")}
        assert stages == {"ingest", "link", "networks", "screen", "audit", "report",
                          "networks_export"}  # fmt: skip
        record, person = engine.query(
            "SELECT a.record_id, b.person_id FROM person_link a JOIN person_link b "
            "ON a.person_id = b.person_id AND a.record_id < b.record_id LIMIT 1"
        )[0]
    finally:
        engine.close()
    chart = tmp_path / "why.svg"
    result = runner.invoke(
        app, ["link", "explain", record, person, "--chart", str(chart), "-w", str(out)]
    )
    assert result.exit_code == 0 and f"the record of {person}" in result.output, result.output
    assert chart.read_text().startswith("<svg") and "shared tie" in chart.read_text()
    report = tmp_path / "elsewhere.html"
    assert runner.invoke(app, ["report", "--out", str(report), "-w", str(out)]).exit_code == 0
    assert report.is_file()
    (out / "rules").mkdir()
    (out / "rules" / "broken.yaml").write_text("- id: X1\n  title: [unclosed\n")
    result = runner.invoke(app, ["screen", "-w", str(out)])
    assert result.exit_code == 2 and "broken.yaml, line" in result.output
