"""docs/pages.md names every page route with its permission, and the Makefile target it tells
people to run exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from casebridge.web.config import ServiceSettings
from casebridge.web.permissions import Public, api_routes, permission_of
from tests.web.casework_world import World, built_world, serving

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "pages.md").read_text(encoding="utf-8")


def documented_rows() -> dict[str, str]:
    """Each table row's routes (as ``METHOD path``), with the permission the row names."""
    rows: dict[str, str] = {}
    for line in DOC.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) < 4 or not cells[1].startswith("`"):
            continue
        for route in re.findall(r"`((?:GET|POST) [^`]+)`", cells[1]):
            rows[route.split("?")[0]] = cells[2].split(" ")[0]
    return rows


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


def test_every_page_route_is_documented_with_its_permission(
    service_settings: ServiceSettings, world: World
) -> None:
    rows = documented_rows()
    with serving(service_settings, world) as app:
        for declared in api_routes(app.routes):
            if declared.path.startswith("/api/"):
                continue
            path = re.sub(r"\{(\w+):path\}", r"{\1}", declared.path)
            permission = permission_of(declared.route)
            expected = "public" if isinstance(permission, Public) else str(permission)
            for method in declared.methods:
                assert rows.get(f"{method} {path}") == expected, f"{method} {path}"


def test_the_makefile_has_the_assets_target_the_doc_names() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "make assets" in DOC and re.search(r"^assets:", makefile, re.MULTILINE)
    assert re.search(r"^test: .*\bassets\b", makefile, re.MULTILINE)
    assert re.search(r"^demo: .*\bassets\b", makefile, re.MULTILINE)
