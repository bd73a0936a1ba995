"""docs/service.md's "Casework API" names every casework route with its permission and every
trail action the data-access layer writes; "Snapshots" names what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from casebridge.web import access, snapshot
from casebridge.web.permissions import permission_of
from casebridge.web.routes import casework

ROOT = Path(__file__).parents[2]


def _section(title: str) -> str:
    docs = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    start = docs.index(f"## {title}\n")
    end = docs.find("\n## ", start + 1)
    return docs[start : end if end >= 0 else None]


def test_the_docs_name_every_casework_route_with_its_permission() -> None:
    section = _section("Casework API")
    rows = {line for line in section.splitlines() if line.startswith("| `")}
    for route in casework.router.routes:
        path = getattr(route, "path").replace(":path", "")  # noqa: B009 - a starlette route
        method = sorted(getattr(route, "methods"))[0]  # noqa: B009
        permission = permission_of(route)
        assert any(f"`{method} {path}" in row and f"| {permission} |" in row for row in rows), path


def test_the_docs_name_every_trail_action() -> None:
    written = set(re.findall(r'"(casework\.\w+)"', Path(access.__file__).read_text("utf-8")))
    assert len(written) == 14
    section = _section("Casework API")
    for action in written:
        assert f"`{action}`" in section, action


def test_the_snapshots_section_says_what_the_code_does() -> None:
    section = _section("Snapshots")
    assert f"`{snapshot.CURRENT}`" in section and f"{snapshot.DATABASE}" in section
    assert "The newest three are kept" in section and snapshot.KEEP == 3
    assert "at most once a second" in section and snapshot.CHECK_SECONDS == 1.0
    assert "linkage_model.json" in section and snapshot.MODEL == "linkage_model.json"
