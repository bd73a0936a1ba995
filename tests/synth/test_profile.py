"""Profiles load, validate, and refuse mistakes with the file and field named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from casebridge.errors import ProfileError
from casebridge.standard.datafiles import OFFENCE_COLUMNS, read_standard
from casebridge.synth.people import load_yaml
from casebridge.synth.profile import PROFILE_DIR, load_profile, shipped_profiles


@pytest.mark.parametrize("name", ["default", "clean", "messy"])
def test_shipped_profiles_load(name: str) -> None:
    assert name in shipped_profiles()
    assert load_profile(name).name == name


def _write(tmp_path: Path, change: dict[str, object]) -> Path:
    raw = yaml.safe_load((PROFILE_DIR / "default.yaml").read_text(encoding="utf-8"))
    raw.update(change)
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_a_profile_can_be_given_by_path(tmp_path: Path) -> None:
    assert load_profile(str(_write(tmp_path, {"name": "mine"}))).name == "mine"


def test_group_shares_must_add_up_to_one(tmp_path: Path) -> None:
    path = _write(tmp_path, {"group_mix": {"white_british": 0.5}})
    with pytest.raises(ProfileError, match="mine.yaml.*add up to"):
        load_profile(str(path))


def test_an_unknown_field_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="colour"):
        load_profile(str(_write(tmp_path, {"colour": "blue"})))


def test_a_rate_above_one_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load((PROFILE_DIR / "default.yaml").read_text(encoding="utf-8"))
    raw["malformed"]["broken_row"] = 1.5
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"malformed\.broken_row"):
        load_profile(str(path))


def test_unknown_profile_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match="shipped profiles: clean, default, messy"):
        load_profile("nope")


def _codes(offences: dict[str, Any]) -> set[str]:
    """Every offence code the generator's offences.yaml can record."""
    codes = {offences["downgraded"], *offences["background"], *offences["sections"]}
    codes |= {code for by_band in offences["child_rape"].values() for code in by_band.values()}
    codes |= {
        code for by_sex in offences["child_other"].values() for c in by_sex.values() for code in c
    }
    codes |= {code for weights in offences["adult_sexual"].values() for code in weights}
    return codes


def test_every_offence_code_the_generator_uses_is_in_the_code_list() -> None:
    listed = {row["ho_code"] for row in read_standard("offences", OFFENCE_COLUMNS)}
    used = _codes(load_yaml("offences.yaml"))
    assert len(used) > 20 and used <= listed, used - listed
