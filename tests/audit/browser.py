"""The report in a real browser: Debian's ``chromium``, headless, driven from the command line.

:func:`open_in_browser` loads a copy of a report with ``layout_check.js`` added and reads back
what it found (charts drawn, the window's width, every layout problem); :func:`screenshot`
takes a PNG. Run as a module it makes the screenshots in ``docs/`` from a synthetic workspace::

    python -m tests.audit.browser docs      # 'make screenshots'
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHECK = Path(__file__).with_name("layout_check.js")
WINDOW_HEIGHT = 900


@dataclass(frozen=True)
class Loaded:
    """What the browser made of a report."""

    width: int
    facts_bottom: int
    charts_expected: int
    charts_drawn: int
    problems: list[str]


def _chromium(profile: Path, width: int, height: int) -> list[str]:
    assert CHROMIUM, "chromium is not installed: 'make browser' installs it"
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ]


def _with(report: Path, work: Path, head: str = "", body: str = "") -> Path:
    """A copy of ``report`` in ``work`` with ``head`` added to its head and ``body`` to the end
    of its body."""
    page = report.read_text(encoding="utf-8")
    page = page.replace("</head>", head + "</head>", 1).replace("</body>", body + "</body>", 1)
    copy = work / f"page-{len(list(work.glob('page-*')))}.html"
    copy.write_text(page, encoding="utf-8")
    return copy


def open_in_browser(report: Path, width: int, work: Path) -> Loaded:
    """Load ``report`` in a window ``width`` px wide and return what the check found."""
    check = "<script>" + CHECK.read_text(encoding="utf-8") + "</script>"
    page = _with(report, work, body=check)
    dom = subprocess.run(
        [*_chromium(work / "profile", width, WINDOW_HEIGHT), "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout

    def attribute(name: str) -> str:
        found = re.search(rf'<body[^>]*\s{name}="([^"]*)"', dom)
        assert found, f"the report's scripts did not run (no {name} on <body>)"
        return html.unescape(found.group(1))

    return Loaded(
        width=int(attribute("data-layout-width")),
        facts_bottom=int(attribute("data-facts-bottom")),
        charts_expected=int(attribute("data-charts-expected")),
        charts_drawn=int(attribute("data-charts-drawn")),
        problems=list(json.loads(attribute("data-layout-problems"))),
    )


def screenshot(report: Path, width: int, height: int, out: Path, only: str = "") -> Path:
    """A PNG of the top of ``report`` in a window ``width`` × ``height`` px (``only``: a CSS
    selector of the one part of the body to show)."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        hide = f"<style>body > :not({only}) {{ display: none; }}</style>" if only else ""
        page = _with(report, work, head=hide)
        subprocess.run(
            [*_chromium(work / "profile", width, height), f"--screenshot={out}", page.as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    return out


def _report_of_a_synthetic_workspace(root: Path) -> tuple[Path, Path]:
    """A synthetic workspace of 2,000 people run through every stage; its published and its
    internal report."""
    from typer.testing import CliRunner

    from casebridge.cli import app
    from casebridge.synth.generate import generate
    from casebridge.synth.profile import load_profile

    generate(2000, 2, load_profile("default"), root)
    runner = CliRunner()
    for command in (["run"], ["report", "--internal"]):
        result = runner.invoke(app, [*command, "-w", str(root)])
        assert result.exit_code == 0, result.output
    return root / "report.html", root / "report-internal.html"


def main(docs: Path) -> None:
    """Make the report's screenshots in ``docs``."""
    with tempfile.TemporaryDirectory() as folder:
        published, internal = _report_of_a_synthetic_workspace(Path(folder) / "ws")
        screenshot(published, 1366, 760, docs / "report-1366.png")
        screenshot(published, 700, 1000, docs / "report-700.png")
        screenshot(published, 700, 1000, docs / "report-statistics-700.png", "#statistics")
        screenshot(internal, 700, 600, docs / "report-internal-700.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs"))
