"""The throwaway PostgreSQL server the service's tests run on: where its binaries are found,
and the note when they are not."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.web import throwaway_postgresql
from tests.web.throwaway_postgresql import (
    FOLDER_PREFIX,
    OWNER_FILE,
    SERVER_TOOLS,
    ServerUnavailable,
    ThrowawayServer,
    find_server_binaries,
    reap_abandoned_servers,
    server_account,
)


def debian_layout(root: Path, versions: list[str]) -> None:
    """Folders like Debian's /usr/lib/postgresql/<version>/bin, with the server's tools."""
    for version in versions:
        folder = root / version / "bin"
        folder.mkdir(parents=True)
        for tool in SERVER_TOOLS:
            (folder / tool).touch(mode=0o755)


@pytest.fixture
def nothing_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty PATH, and Debian's binaries looked for under a folder of the test's own."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    root = tmp_path / "postgresql"
    monkeypatch.setattr(throwaway_postgresql, "DEBIAN_BINARIES", f"{root}/*/bin")
    return root


def test_the_newest_debian_version_is_chosen(nothing_on_path: Path) -> None:
    # 9 < 15 < 16 as numbers, not as text
    debian_layout(nothing_on_path, ["9", "16", "15"])
    assert find_server_binaries() == nothing_on_path / "16" / "bin"


def test_a_version_without_its_server_is_passed_over(nothing_on_path: Path) -> None:
    # a client-only install has pg_ctl's folder but no initdb or postgres in it
    debian_layout(nothing_on_path, ["14", "15"])
    (nothing_on_path / "15" / "bin" / "initdb").unlink()
    assert find_server_binaries() == nothing_on_path / "14" / "bin"


def test_missing_binaries_say_how_to_install_them(nothing_on_path: Path) -> None:
    with pytest.raises(ServerUnavailable, match=r"'sudo make test' installs"):
        find_server_binaries()


def test_binaries_on_path_come_first(
    nothing_on_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    debian_layout(nothing_on_path, ["15"])
    debian_layout(tmp_path / "own", ["17"])
    monkeypatch.setenv("PATH", str(tmp_path / "own" / "17" / "bin"))
    assert find_server_binaries() == tmp_path / "own" / "17" / "bin"


def test_root_without_the_postgres_user_is_told_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throwaway_postgresql, "SYSTEM_USER", "no-such-user-here")
    monkeypatch.setattr("os.geteuid", lambda: 0)
    with pytest.raises(ServerUnavailable, match="postgres system user"):
        server_account()


def test_only_the_servers_of_ended_test_processes_are_reaped(tmp_path: Path) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    abandoned, alive = tmp_path / f"{FOLDER_PREFIX}old", tmp_path / f"{FOLDER_PREFIX}mine"
    for folder, owner in ((abandoned, finished.pid), (alive, os.getpid())):
        folder.mkdir()
        (folder / OWNER_FILE).write_text(str(owner))
    reap_abandoned_servers(tmp_path, None, tmp_path)
    assert (abandoned.exists(), alive.exists()) == (False, True)


def database_names(server: ThrowawayServer) -> set[str]:
    """The databases on ``server``."""
    with psycopg.connect(server.url("postgres")) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


def object_names(url: str) -> list[str]:
    """Every schema and relation in the database at ``url`` outside the system's own."""
    query = """
        SELECT nspname FROM pg_namespace
        WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
        UNION ALL
        SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
        ORDER BY 1"""
    with psycopg.connect(url) as connection:
        return [row[0] for row in connection.execute(query)]


def test_a_database_given_back_is_emptied_for_the_next_test(
    postgresql_server: ThrowawayServer,
) -> None:
    name = postgresql_server.take_database()
    url = postgresql_server.url(name)
    assert object_names(url) == ["public"]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE public.note (id serial PRIMARY KEY, text text)")
        connection.execute("CREATE SCHEMA own")
        connection.execute("CREATE TYPE own.mood AS ENUM ('calm')")
        connection.execute("CREATE VIEW own.notes AS SELECT * FROM public.note")
    # a test that leaves a transaction open, holding a lock on its table
    left_open = psycopg.connect(url)
    left_open.execute("INSERT INTO note (text) VALUES ('held')")
    try:
        postgresql_server.give_back_database(name)
    finally:
        left_open.close()
    assert postgresql_server.take_database() == name
    assert object_names(url) == ["public"]
    postgresql_server.give_back_database(name)


def test_a_database_that_cannot_be_emptied_is_dropped(
    postgresql_server: ThrowawayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = postgresql_server.take_database()
    monkeypatch.setattr(throwaway_postgresql, "EMPTY_DATABASE", "SELECT no_such_function()")
    postgresql_server.give_back_database(name)
    assert name not in database_names(postgresql_server)
    monkeypatch.undo()
    another = postgresql_server.take_database()
    assert another != name
    postgresql_server.give_back_database(another)
