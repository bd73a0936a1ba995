"""The operational store on each database: the migrations build exactly the models' schema,
running them again changes nothing, and what is written through ``casebridge.web.db`` is read
back as it was written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select

from casebridge.web.db import (
    alembic_config,
    make_engine,
    migrate,
    session_factory,
    transaction,
)
from casebridge.web.models import Account, Base, Note


@pytest.fixture
def engine(database_url: str) -> Engine:
    """An engine on the test's new, empty database (closed by ``database_url``)."""
    return make_engine(database_url)


def schema_differences(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def applied_revision(engine: Engine) -> str | None:
    """The revision the database is at."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_snapshot(engine: Engine) -> dict[str, list[tuple[str, str, bool]]]:
    """Every table's columns (name, type, nullable), as the database reports them."""
    inspector = sa.inspect(engine)
    return {
        table: [
            (column["name"], str(column["type"]), column["nullable"])
            for column in inspector.get_columns(table)
        ]
        for table in inspector.get_table_names()
    }


def test_the_empty_database_differs_from_the_models(engine: Engine) -> None:
    # the comparison the next tests rely on sees a difference: every table is missing
    differences = schema_differences(engine)
    added = {change[1].name for change in differences if change[0] == "add_table"}
    assert added == set(Base.metadata.tables)


def test_the_migrations_build_exactly_the_models_schema(engine: Engine) -> None:
    migrate(engine)
    assert schema_differences(engine) == []
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert applied_revision(engine) == head


def test_migrating_again_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    before = schema_snapshot(engine)
    migrate(engine)
    assert schema_snapshot(engine) == before
    assert schema_differences(engine) == []


def test_a_write_is_read_back_as_written(engine: Engine) -> None:
    migrate(engine)
    sessions = session_factory(engine)
    created = dt.datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=dt.UTC)
    # right-to-left, combining and astral characters, and a long text
    text = "ملاحظة — Zoë\u0301 𝒜 " + "x" * 10_000
    with transaction(sessions) as session:
        account = Account(username="reviewer.one", display_name="Ada Example", role="reviewer")
        account.created_at = created
        session.add(account)
        session.flush()
        session.add(Note(subject_kind="person", subject_id="P-1", text=text, account_id=account.id))
    with transaction(sessions) as session:
        stored = session.scalars(select(Account)).one()
        note = session.scalars(select(Note)).one()
    assert (stored.username, stored.role, stored.active, stored.failed_logins) == (
        "reviewer.one",
        "reviewer",
        True,
        0,
    )
    assert as_utc(stored.created_at) == created
    assert (note.text, note.account_id) == (text, stored.id)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC time: SQLite gives it back without its zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def test_a_failed_unit_of_work_leaves_nothing(engine: Engine) -> None:
    migrate(engine)
    sessions = session_factory(engine)
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        session.add(Account(username="analyst.two", display_name="Bo Example", role="analyst"))
        session.flush()
        raise RuntimeError("the caller fails after the write")
    with transaction(sessions) as session:
        assert session.scalars(select(Account)).all() == []


def test_a_username_is_unique_on_every_database(engine: Engine) -> None:
    migrate(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        session.add(Account(username="same.name", display_name="Cy Example", role="auditor"))
    with pytest.raises(sa.exc.IntegrityError), transaction(sessions) as session:
        session.add(Account(username="same.name", display_name="Di Example", role="auditor"))
