"""Fixtures for screening tests: a fresh tiny workspace, and the shipped rules loaded once."""

from __future__ import annotations

import pytest

from casebridge.screen.rules import Rule, load_rules
from tests.screen.world import World


@pytest.fixture(scope="session")
def shipped() -> list[Rule]:
    """The shipped rule set."""
    return load_rules(None)


@pytest.fixture
def world() -> World:
    """An empty in-memory workspace with four sources (two forces, social care, duty reports)."""
    return World()
