"""The operational database: one engine per service, migrated by Alembic on start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from casebridge.errors import CasebridgeError


class ServiceDatabaseError(CasebridgeError):
    """The operational database cannot be opened or migrated."""


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL), with SQLite's foreign keys switched on."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError):
        raise ServiceDatabaseError(
            "the service database URL is not one casebridge can open; give a sqlite:/// or "
            "postgresql:// URL in CASEBRIDGE_DATABASE_URL"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(engine: Engine) -> Config:
    """Alembic's configuration for the migrations that ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(files("casebridge.web") / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (a new database gets every table)."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except SQLAlchemyError:
        raise ServiceDatabaseError(
            "the service database could not be migrated; check that CASEBRIDGE_DATABASE_URL "
            "names a database this account may create tables in"
        ) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back when it raises."""
    with factory() as session, session.begin():
        yield session
