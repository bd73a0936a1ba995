"""Shared fixtures: synthetic extract sets made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile

SMALL_PEOPLE = 20_000


@pytest.fixture(scope="session", params=["default", "messy"])
def synth_out(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An extract set of 20,000 people, seed 11, under the default and the messy profile."""
    out = tmp_path_factory.mktemp("synth") / "out"
    generate(SMALL_PEOPLE, 11, load_profile(request.param), out)
    return out
