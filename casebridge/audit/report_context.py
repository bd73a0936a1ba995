"""Where a report comes from and where it goes: the workspace, version and extract dates it
names on its first screen, the rule titles it shows, and the file it is written to (the
internal version only to a file of its own, readable by its owner only)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from html import escape
from pathlib import Path

import polars as pl

from casebridge import __version__
from casebridge.errors import CasebridgeError, OutputError
from casebridge.screen.rules import Rule, load_rules

INTERNAL_MARK = "INTERNAL — unsuppressed counts, personal-data workspace only"
INTERNAL_FILE = "report-internal.html"
OWNER_ONLY_FILE = 0o600


@dataclass(frozen=True)
class ReportContext:
    """What the report says about where it comes from, and whom it is for.

    ``rules`` is the workspace's ``rules/`` folder (the shipped rules' titles are used where it
    is None or cannot be read); ``internal`` asks for the unsuppressed version."""

    workspace: str = "casebridge workspace"
    rules: Path | None = None
    internal: bool = False


def target_file(out: Path, internal: bool) -> Path:
    """The file to write: ``out`` if it names an HTML file, else the usual name inside it."""
    if out.suffix != ".html":
        return out / (INTERNAL_FILE if internal else "report.html")
    if internal and "internal" not in out.name.lower():
        raise OutputError(
            f"the internal report cannot be written to {out.name}: give it a file name that "
            f"says 'internal' (for example {INTERNAL_FILE}), so it is never taken for the "
            "published report"
        )
    return out


def write_page(path: Path, html: str, internal: bool) -> None:
    """Write the page; the internal one is created readable by its owner only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if internal:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, OWNER_ONLY_FILE))
            path.chmod(OWNER_ONLY_FILE)
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write the report to {path}: {exc.strerror}") from exc


def workspace_rules(folder: Path | None) -> list[Rule]:
    """The screening rules as the workspace has them: shipped, with its ``rules/`` applied."""
    try:
        return load_rules(folder)
    except CasebridgeError:  # a broken override: 'casebridge screen' says what is wrong
        return load_rules()


def extract_dates(coverage: pl.DataFrame) -> list[str]:
    """Each source's extract date (``extracted_at``), or "not given"."""
    if "extracted_at" not in coverage.columns:
        return ["not given"] * coverage.height
    return [str(d)[:10] if d is not None else "not given" for d in coverage["extracted_at"]]


def facts(tables: dict[str, pl.DataFrame], context: ReportContext) -> str:
    """What the report is of: the workspace, the casebridge version and the extracts' dates."""
    dates = sorted(set(extract_dates(tables["source_coverage"])) - {"not given"})
    if not dates:
        extracts = "not given"
    elif len(dates) == 1:
        extracts = dates[0]
    else:
        extracts = f"{dates[0]} to {dates[-1]} (each source's below)"
    facts = (
        ("Workspace", context.workspace),
        ("Made with", f"casebridge {__version__}"),
        ("Extracts dated", extracts),
        ("Report made", dt.date.today().isoformat()),
    )
    items = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    return f'<dl class="facts">{items}</dl>'
