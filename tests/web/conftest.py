"""Fixtures for the service's tests: an empty operational database for each test, on SQLite and
on PostgreSQL.

``database_url`` is the one place a test's database comes from: every test that uses it (or
``service_settings``) runs twice, as ``test_x[sqlite]`` and ``test_x[postgresql]``. The
PostgreSQL runs share one throwaway server per test session (per pytest-xdist worker) and get
an empty database each: made for the test, or emptied after the test before it. Without
PostgreSQL's binaries they are skipped with a note, except under ``CI``, where they fail (as the
report's browser test does without chromium): CI runs ``make test`` as root, which installs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from casebridge.web.config import ServiceSettings, settings_for
from tests.web.throwaway_postgresql import (
    ServerUnavailable,
    ThrowawayServer,
    start_throwaway_server,
)

DATABASES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[ThrowawayServer]:
    """A PostgreSQL server for this session, stopped and removed when it ends."""
    try:
        server = start_throwaway_server()
    except ServerUnavailable as why:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI has it)", pytrace=False)
        pytest.skip(str(why))
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def engines_disposed() -> Iterator[None]:
    """Close, when the block ends, every engine that connected within it.

    A test that builds an app and lets it go leaves pooled connections behind, and psycopg
    warns about each one the garbage collector finds open. The engines are held (not weakly:
    a collected engine would leave its connections to the collector) and closed here.
    """
    engines: dict[int, Engine] = {}

    def remember(connection: Any) -> None:
        engines.setdefault(id(connection.engine), connection.engine)

    event.listen(Engine, "engine_connect", remember)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", remember)
        for engine in engines.values():
            engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or an empty database on the session's PostgreSQL."""
    if request.param == "sqlite":
        with engines_disposed():
            yield f"sqlite:///{tmp_path / 'service.sqlite'}"
        return
    server: ThrowawayServer = request.getfixturevalue("postgresql_server")
    name = server.take_database()
    try:
        with engines_disposed():
            yield server.url(name)
    finally:
        server.give_back_database(name)


@pytest.fixture
def service_settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    """Settings for a service over an empty workspace folder, cookies allowed over plain HTTP
    (the test client speaks HTTP)."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return settings_for(workspace, database_url=database_url, secure_cookies=False)
