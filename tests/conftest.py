"""Shared fixtures: synthetic extract sets made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile

SMALL_PEOPLE = 20_000


@pytest.fixture(scope="session")
def synth_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default-profile extract set of 20,000 people, seed 11."""
    out = tmp_path_factory.mktemp("synth") / "out"
    generate(SMALL_PEOPLE, 11, load_profile("default"), out)
    return out
