"""A throwaway PostgreSQL server for the service's tests, started from Debian's binaries.

The server lives in a temporary folder for one test session (one per pytest-xdist worker):
``initdb`` makes its data folder, ``pg_ctl`` starts it on a free loopback port with its unix
socket in the same folder, and it is stopped and the folder removed when the session ends.
It trusts connections from loopback only and does not sync to disk: it holds nothing worth
keeping. Each test gets an empty database on it (``take_database``), which is emptied again
when the test gives it back.

initdb refuses to run as root, so as root the server runs as the ``postgres`` system user
that Debian's ``postgresql`` package creates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

# where Debian puts each major version's server binaries (they are not on PATH there)
DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
INSTALL_NOTE = "PostgreSQL's server (initdb, pg_ctl) is not installed; 'sudo make test' installs it"
# a server for tests: nothing on it is worth a sync to disk
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'32MB'",
    "max_connections": "100",
    "log_min_messages": "warning",
    # not UTC, and not a whole hour from it: code that reads a stored time back and forgets
    # to bring it to UTC (as a trail hash must) fails here, as it would on a server in London
    # in summer
    "timezone": "'Asia/Kolkata'",
}
START_ATTEMPTS = 3
# what a test left in its database goes: its other connections, then every schema of its own
# (a lock a test still holds stops the emptying after a while: the database is dropped instead)
EMPTY_DATABASE = """
SET lock_timeout = '10s';
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid();
DO $$
DECLARE
    schema_name name;
BEGIN
    FOR schema_name IN
        SELECT nspname FROM pg_namespace
        WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
    LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', schema_name);
    END LOOP;
END $$;
CREATE SCHEMA public;
"""
# anything left outside the system's schemas: tables, views, sequences, types, functions
COUNT_OBJECTS = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema')
     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema')
     + (SELECT count(*) FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
        WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema')
"""
FOLDER_PREFIX = "casebridge-pg-"
# the id of the test process a server belongs to, kept in its folder
OWNER_FILE = "owner.pid"


class ServerUnavailable(Exception):
    """PostgreSQL cannot run here (no binaries, or root without the postgres user)."""


class ServerFailed(Exception):
    """PostgreSQL's binaries are here but the server could not be made or started."""


def _major_version(folder: Path) -> int:
    match = re.search(r"/(\d+)/bin$", str(folder))
    return int(match.group(1)) if match else 0


def find_server_binaries() -> Path:
    """The folder holding initdb, pg_ctl and postgres: from PATH, else Debian's newest."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    debian = sorted((Path(found) for found in glob.glob(DEBIAN_BINARIES)), key=_major_version)
    candidates.extend(reversed(debian))
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in SERVER_TOOLS):
            return folder
    raise ServerUnavailable(INSTALL_NOTE)


def server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None for the current one, postgres when root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise ServerUnavailable(
            "running as root, the PostgreSQL tests need the postgres system user; "
            "'make test' as root installs Debian's postgresql package, which creates it"
        ) from None


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ThrowawayServer:
    """One PostgreSQL server in ``folder``; ``start`` it, ``stop`` it, make databases on it."""

    binaries: Path
    folder: Path
    account: pwd.struct_passwd | None
    port: int = 0
    databases_made: int = 0
    _admin: psycopg.Connection[tuple[object, ...]] | None = None
    _emptied: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def _run(self, tool: str, *arguments: str) -> None:
        command = [str(self.binaries / tool), *arguments]
        if self.account is not None:
            command = ["runuser", "-u", self.account.pw_name, "--", *command]
        finished = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if finished.returncode != 0:
            raise ServerFailed(f"{tool} failed:\n{finished.stderr}\n{self.log_tail()}")

    def initialise(self) -> None:
        """Make the data folder: UTF-8, C locale, trust on loopback and the unix socket."""
        if self.account is not None:
            os.chown(self.folder, self.account.pw_uid, self.account.pw_gid)
        self._run(
            "initdb",
            *("-D", str(self.data), "-U", SUPERUSER, "--auth=trust"),
            *("--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"),
        )
        settings = "".join(f"{name} = {value}\n" for name, value in SERVER_SETTINGS.items())
        settings += f"unix_socket_directories = '{self.folder}'\n"
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(settings)

    def start(self) -> None:
        """Start on a free loopback port (another one if that port was taken meanwhile)."""
        for attempt in range(START_ATTEMPTS):
            self.port = free_loopback_port()
            try:
                self._run(
                    "pg_ctl",
                    *("start", "--wait", "--timeout=60", "-D", str(self.data)),
                    *("-l", str(self.log), "-o", f"-p {self.port}"),
                )
            except ServerFailed:
                if attempt + 1 == START_ATTEMPTS:
                    raise
            else:
                break
        self._admin = psycopg.connect(self.url("postgres"), autocommit=True)

    def stop(self) -> None:
        """Stop at once (nothing needs a clean shutdown) and remove the folder."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if (self.data / "postmaster.pid").exists():
            # a server killed with its test process leaves its pid file: nothing to stop then
            with contextlib.suppress(ServerFailed):
                self._run("pg_ctl", "stop", "--mode=immediate", "--wait", "-D", str(self.data))
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        """The server log's last lines, to explain a failure."""
        if not self.log.exists():
            return "(no server log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def url(self, database: str) -> str:
        """The URL casebridge would be given for ``database`` on this server."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def take_database(self) -> str:
        """An empty database for one test: an emptied one given back before, or a new one."""
        assert self._admin is not None, "start the server first"
        if self._emptied:
            return self._emptied.pop()
        self.databases_made += 1
        name = f"test_{self.databases_made}"
        # template0 is pristine and takes no connections, so nothing can hold it open
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0")
        self._admin.execute(statement.format(sql.Identifier(name)))
        return name

    def give_back_database(self, name: str) -> None:
        """Empty ``name`` for the next test, or drop it if it cannot be emptied.

        Emptying (its connections closed, every schema dropped, ``public`` made again) takes
        about a tenth of the time of dropping it and making a new one.
        """
        try:
            with psycopg.connect(self.url(name), autocommit=True) as connection:
                connection.execute(EMPTY_DATABASE)
                row = connection.execute(COUNT_OBJECTS).fetchone()
            if row is not None and row[0] == 0:
                self._emptied.append(name)
                return
        except psycopg.Error:
            pass
        self.drop_database(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection a test left open to it."""
        assert self._admin is not None, "start the server first"
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        self._admin.execute(statement.format(sql.Identifier(name)))


def is_running(process_id: int) -> bool:
    """Whether a process with this id is alive."""
    try:
        os.kill(process_id, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_abandoned_servers(binaries: Path, account: pwd.struct_passwd | None, parent: Path) -> None:
    """Stop and remove the servers of test processes that were killed before they could."""
    for folder in parent.glob(f"{FOLDER_PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if not is_running(owner):
            ThrowawayServer(binaries=binaries, folder=folder, account=account).stop()


def start_throwaway_server() -> ThrowawayServer:
    """A started server in a new temporary folder, or ServerUnavailable with a note why."""
    binaries = find_server_binaries()
    account = server_account()
    # under /tmp rather than pytest's tmp_path: the postgres user cannot enter root's folders
    parent = Path("/tmp" if account else tempfile.gettempdir())
    reap_abandoned_servers(binaries, account, parent)
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parent))
    (folder / OWNER_FILE).write_text(str(os.getpid()))
    server = ThrowawayServer(binaries=binaries, folder=folder, account=account)
    try:
        server.initialise()
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
