"""Fixtures for the service's tests: a fresh operational database for each test.

``database_url`` is the one place a test's database comes from, so that every test of the
service runs on each database casebridge supports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casebridge.web.config import ServiceSettings, settings_for


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A new, empty SQLite database."""
    return f"sqlite:///{tmp_path / 'service.sqlite'}"


@pytest.fixture
def service_settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    """Settings for a service over an empty workspace folder, cookies allowed over plain HTTP
    (the test client speaks HTTP)."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return settings_for(workspace, database_url=database_url, secure_cookies=False)
