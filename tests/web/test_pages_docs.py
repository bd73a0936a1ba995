"""docs/pages.md names every page route with its permission, and the Makefile targets it tells
people to run exist; it shows every page screenshot, which the browser tests write only when
asked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from casebridge.web.config import ServiceSettings
from casebridge.web.permissions import Public, api_routes, permission_of
from tests.web.casework_world import World, built_world, serving
from tests.web.e2e.harness import SCREENSHOTS, VIEWPORT, screenshot

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


def test_the_doc_shows_every_page_screenshot_with_alt_text() -> None:
    shown = re.findall(r"!\[([^\]]*)\]\(pages/([^)]+\.png)\)", DOC)
    assert shown, "docs/pages.md shows no screenshot"
    assert all(alt.strip() for alt, _ in shown), "a screenshot without alt text"
    taken = sorted(path.name for path in (ROOT / "docs" / "pages").glob("*.png"))
    assert sorted(name for _, name in shown) == taken
    total = sum((ROOT / "docs" / "pages" / name).stat().st_size for name in taken)
    assert total < 3_000_000, f"the page screenshots weigh {total} bytes; keep them under 3 MB"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^screenshots:.*?(?=^\S|\Z)", makefile, re.MULTILINE | re.DOTALL)
    assert target and f"{SCREENSHOTS}=docs/pages" in target.group(0)
    assert "tests/web/e2e" in target.group(0) and "make screenshots" in DOC


class FakePage:
    """What the screenshot helper asks of a Playwright page, recorded."""

    viewport_size = VIEWPORT

    def __init__(self) -> None:
        self.taken: list[dict[str, object]] = []

    def evaluate(self, script: str) -> object:
        return 500 if "scrollHeight" in script else None

    def screenshot(self, **options: object) -> None:
        self.taken.append(options)


def test_screenshots_are_written_only_into_the_folder_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = FakePage()
    monkeypatch.delenv(SCREENSHOTS, raising=False)
    screenshot(page, "queue")
    assert page.taken == []
    monkeypatch.setenv(SCREENSHOTS, str(tmp_path / "shots"))
    screenshot(page, "queue")
    assert page.taken == [{
        "path": str(tmp_path / "shots" / "queue.png"),
        "clip": {"x": 0, "y": 0, "width": 1280, "height": 500},  # a short page: its height
        "animations": "disabled", "caret": "hide",
    }]  # fmt: skip
