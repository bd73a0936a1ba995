"""The operational store: what people do, as SQLAlchemy 2 models (SQLite or PostgreSQL).

Every table is changed only through Alembic migrations (``migrations/``). Nothing here holds a
name from the pipeline's data: people, records, events and items are named by their ids.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_LENGTH = 200
# SQLite's INTEGER PRIMARY KEY is its rowid; PostgreSQL gets a BIGINT identity
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utc_now() -> dt.datetime:
    """Now, in UTC, as every stored time is."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """The operational store's tables."""

    type_annotation_map = {dt.datetime: DateTime(timezone=True)}


class Account(Base):
    """One person who signs in. The password is an argon2id hash; the second factor a TOTP
    secret, confirmed once the account has entered a code from it."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(400))
    totp_secret: Mapped[str | None] = mapped_column(String(100))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # the time step of the last code accepted, so that no code is accepted twice
    last_totp_step: Mapped[int | None] = mapped_column(BigInteger)
    # the subject an OIDC identity provider gives this account, when it signs in that way
    oidc_subject: Mapped[str | None] = mapped_column(String(400), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class AccountScope(Base):
    """An agency whose records an account may see (a force, a local authority, ...): the
    ``agency`` of a source in casebridge.toml."""

    __tablename__ = "account_scope"
    __table_args__ = (UniqueConstraint("account_id", "agency"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(200))


class WebSession(Base):
    """A signed-in browser or client. The cookie holds a random token; only its hash is kept."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(128))
    # false until the second factor is entered: such a session may do nothing else
    second_factor_done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[dt.datetime | None]
    remote_addr: Mapped[str | None] = mapped_column(String(100))


class LoginAttempt(Base):
    """One try at signing in, for rate limiting by address and by account."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    remote_addr: Mapped[str | None] = mapped_column(String(100))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class ItemStatus(Base):
    """A review item's status, appended on every change (the latest row is the status)."""

    __tablename__ = "item_status"
    __table_args__ = (Index("ix_item_status_item", "item_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    status: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Assignment(Base):
    """Who a review item is assigned to, appended on every change (the latest row holds)."""

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_item", "item_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    # None: unassigned
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    assigned_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Note(Base):
    """A note on a review item, person or network; never edited, never deleted."""

    __tablename__ = "note"
    __table_args__ = (Index("ix_note_subject", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    text: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Judgement(Base):
    """A match judgement on two records (``record_l`` < ``record_r``); the latest for a pair is
    the one ``casebridge link`` honours."""

    __tablename__ = "judgement"
    __table_args__ = (Index("ix_judgement_pair", "record_l", "record_r"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_l: Mapped[str] = mapped_column(String(ID_LENGTH))
    record_r: Mapped[str] = mapped_column(String(ID_LENGTH))
    verdict: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class TrailEntry(Base):
    """One entry of the access trail: who, when, what (ids only), why, from where.

    ``entry_hash`` chains each entry to the one before; the Merkle tree over the entry hashes
    is what signed checkpoints commit to (``trail.py``).
    """

    __tablename__ = "trail_entry"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(80))
    subject_kind: Mapped[str | None] = mapped_column(String(40))
    # the ids read or written, as a JSON list; never a name
    subject_ids: Mapped[str] = mapped_column(Text, default="[]")
    reason: Mapped[str | None] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(String(100))
    # access beyond one's assignments ("break glass"), for supervisors to review
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class TrailCheckpoint(Base):
    """A signed statement of the trail's Merkle root at a size (RFC 9162's signed tree head)."""

    __tablename__ = "trail_checkpoint"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(200))


class TrailHead(Base):
    """The trail's one head row: how many entries the service has appended, the last one's
    hash and the Merkle frontier (the right edge's subtree roots, as a JSON list of hex).

    Appending locks this row first, so two appends at once never fork the chain; checkpoints
    sign the root the appender built, not whatever the table holds when they are written.
    ``size`` is None until the first append after the migration builds it from the log.
    """

    __tablename__ = "trail_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int | None] = mapped_column(BigInteger)
    last_hash: Mapped[str | None] = mapped_column(String(64))
    frontier: Mapped[str | None] = mapped_column(Text)


class FlagReview(Base):
    """A supervisor's note that a flagged (break-glass) trail entry was looked at."""

    __tablename__ = "flag_review"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trail_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    outcome: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class DutyReport(Base):
    """A report filed under the mandatory duty to report child sexual abuse (docs/pages.md,
    "Duty-to-report intake"). Unlike every other table here it holds personal data: the report
    as filed, in ``details`` (JSON), read only through ``duty_access.DutyReports``, which
    shows it to its filer and to accounts whose scope holds the force it was routed to.
    ``force`` None: no force could be found for the child's postcode (unrouted), for a
    supervisor to see to. Never deleted: the next pipeline run takes every report as a source.
    """

    __tablename__ = "duty_report"
    __table_args__ = (Index("ix_duty_report_force", "force"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    filed_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    filed_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    force: Mapped[str | None] = mapped_column(String(200))
    postcode_district: Mapped[str | None] = mapped_column(String(10))
    details: Mapped[str] = mapped_column(Text)
