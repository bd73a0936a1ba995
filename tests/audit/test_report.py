"""The report end to end: a small synthetic workspace ingested, linked, audited and reported;
the HTML is self-contained, holds nothing personal, and draws every chart in a real browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from casebridge.audit.evaluate import evaluate_audit
from casebridge.audit.report import render_report
from casebridge.audit.run import audit
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.link.run import MODEL_FILE, link
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import open_workspace

from .helpers import SECRET_ADDRESS, SECRET_DOB, SECRET_NAMES, tiny_workspace

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 synthetic people, ingested and linked."""
    root = tmp_path_factory.mktemp("audit") / "ws"
    generate(2000, 2, load_profile("default"), root)  # seed 2 writes a duty report or two
    ingest(open_workspace(root))
    link(open_workspace(root))
    return root


@pytest.fixture(scope="module")
def report(linked: Path) -> Path:
    engine = Engine(linked / "casebridge.duckdb")
    try:
        audit(engine, AuditSettings(), linked / "audit")
        return render_report(engine, AuditSettings(), linked / MODEL_FILE, linked / "audit")
    finally:
        engine.close()


def test_the_report_loads_nothing_from_any_host(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert re.search(r"https?://", html) is None
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)


def test_the_report_opens_with_what_a_reader_needs_first(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    order = [
        html.index(f'id="{anchor}"')
        for anchor in ("glance", "quality", "linkage", "casework", "statistics")
    ]
    assert order == sorted(order)
    assert "Sources and their coverage" in html and 'data-chart="match_weights"' in html
    assert "Not run: network detection" in html


def test_no_name_birth_date_or_address_reaches_the_report(tmp_path: Path) -> None:
    engine = tiny_workspace()
    audit(engine, AuditSettings(), tmp_path / "out")
    html = render_report(engine, AuditSettings(), None, tmp_path / "out").read_text(
        encoding="utf-8"
    )
    for secret in (*SECRET_NAMES, SECRET_DOB, SECRET_ADDRESS):
        assert secret not in html


def test_no_synthetic_name_reaches_the_report(linked: Path, report: Path) -> None:
    html = report.read_text(encoding="utf-8").lower()
    engine = Engine(linked / "casebridge.duckdb")
    try:
        names = {
            str(n).lower()
            for (n,) in engine.query(
                "SELECT DISTINCT surname FROM person_record WHERE length(surname) >= 7"
            )
        }
    finally:
        engine.close()
    words = set(re.findall(r"[a-z][a-z'-]+", html))
    assert names and not names & words


def test_the_stated_completeness_and_bounds_agree_with_the_truth(
    linked: Path, report: Path
) -> None:
    engine = Engine(linked / "casebridge.duckdb")
    try:
        result = evaluate_audit(engine, linked / "truth")
    finally:
        engine.close()
    suspects = result.completeness.filter(
        (result.completeness["population"] == "all records")
        & (result.completeness["role"] == "suspect")
    )
    # 3 points, not 2, since referrals name adults of concern with an age only (docs/synth.md):
    # one the linker misses is a person of its own, with no nationality (issue 13, item 5)
    assert suspects["difference_points"].abs().max() < 3  # type: ignore[operator]
    contained, total = result.contained("all records", "suspect", "ethnicity_group")
    assert total == 5 and contained == total


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed here ('make browser' installs it); CI has it",
)
def test_every_chart_draws_in_a_real_browser(report: Path, tmp_path: Path) -> None:
    assert CHROMIUM, "chromium must be installed in CI: 'make browser' installs it"
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    expected = re.search(r'data-charts-expected="(\d+)"', dom)
    drawn = re.search(r'data-charts-drawn="(\d+)"', dom)
    assert expected and drawn, "the report's script did not run"
    assert int(expected.group(1)) >= 8
    assert drawn.group(1) == expected.group(1)
