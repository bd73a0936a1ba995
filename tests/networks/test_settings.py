"""The [networks] settings: defaults, validation, and a page that documents every one."""

from __future__ import annotations

from pathlib import Path

import pytest

from casebridge.errors import WorkspaceError
from casebridge.workspace import NetworkSettings, init_workspace, open_workspace

DOCS = Path(__file__).parents[2] / "docs"


def test_a_workspace_without_a_networks_section_gets_the_defaults(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws")
    assert workspace.settings.networks == NetworkSettings()
    assert workspace.settings.networks.min_suspects == 2
    assert workspace.settings.networks.window_days is None


def test_the_networks_section_is_read(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root)
    with (root / "casebridge.toml").open("a", encoding="utf-8") as settings:
        settings.write('\n[networks]\nwindow_days = 730\nmin_suspects = 3\n'
                       'suspect_roles = ["suspect", "person_of_concern"]\n')  # fmt: skip
    networks = open_workspace(root).settings.networks
    assert (networks.window_days, networks.min_suspects) == (730, 3)
    assert networks.suspect_roles == ("suspect", "person_of_concern")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("min_suspects = 1", "networks.min_suspects"),
        ('victim_roles = ["victim", "suspect"]', "a role cannot be on both sides: suspect"),
        ("window_days = 0", "networks.window_days"),
        ("same_person_floor = 1.5", "networks.same_person_floor"),
        ("colour = 1", "networks.colour"),
    ],
)
def test_a_wrong_setting_is_named(tmp_path: Path, line: str, message: str) -> None:
    root = tmp_path / "ws"
    init_workspace(root)
    with (root / "casebridge.toml").open("a", encoding="utf-8") as settings:
        settings.write(f"\n[networks]\n{line}\n")
    with pytest.raises(WorkspaceError, match=message):
        open_workspace(root)


def test_the_docs_name_every_setting_and_its_default() -> None:
    text = (DOCS / "networks.md").read_text(encoding="utf-8")
    for name, field in NetworkSettings.model_fields.items():
        assert f"`{name}`" in text, name
        default = field.default
        shown = "none" if default is None else str(default)
        if isinstance(default, tuple):
            shown = ", ".join(f"`{value}`" for value in default)
        assert shown in text, (name, shown)
