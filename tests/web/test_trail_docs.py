"""docs/service.md's "The access trail" names every trail command, route, action it writes,
setting and kind of problem ``verify`` reports."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from casebridge.cli import app
from casebridge.web import trail_verify
from casebridge.web.checkpoints import KEY_VARIABLE
from casebridge.web.routes import trail as trail_routes

ROOT = Path(__file__).parents[2]


def _section() -> str:
    docs = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    start = docs.index("## The access trail")
    end = docs.find("\n## ", start + 1)
    return docs[start : end if end >= 0 else None]


def test_the_docs_name_every_trail_command() -> None:
    help_text = CliRunner().invoke(app, ["trail", "--help"], env={"COLUMNS": "200"}).stdout
    commands = set(re.findall(r"│ (\w[\w-]+) +\w", help_text))
    assert commands >= {"verify", "export", "checkpoint", "public-key", "rotate-key"}
    for command in commands:
        assert f"casebridge trail {command}" in _section(), command


def test_the_docs_name_every_route_action_setting_and_problem() -> None:
    section = _section()
    for route in trail_routes.router.routes:
        path = getattr(route, "path")  # noqa: B009 - a starlette route
        assert path.split("?")[0] in section, path
    sources = [
        Path(trail_routes.__file__),
        Path(trail_routes.__file__).parents[1] / "trail_read.py",
        Path(trail_routes.__file__).parents[1] / "auditing.py",
    ]
    actions = {
        a
        for s in sources
        for a in re.findall(r'record\(\s*session,\s*\w+,\s*"(trail\.\w+)"', s.read_text())
    }
    assert len(actions) >= 6
    for action in actions:
        assert f"`{action}`" in section, action
    for setting in ("checkpoint_every", KEY_VARIABLE, "service-keys/trail-ed25519.pem"):
        assert setting in section, setting
    source = Path(trail_verify.__file__).read_text(encoding="utf-8")
    problems = set(re.findall(r'Verdict\.(?:fail|note),\s+"([\w ]+)"', source))
    problems |= set(re.findall(r'yield "(\w+)"', source)) | {trail_verify.NOT_A_PREFIX}
    assert {"edited", "deleted", "inserted", "reordered", "truncated"} <= problems
    for problem in problems - {"head"}:
        assert f"| `{problem}`" in section, problem
