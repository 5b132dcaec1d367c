"""The store's tables, as SQLAlchemy Core `Table`s on one `metadata`.

Adding tables (the alerts package does this) takes two steps:

1. Define them on `slack_bot.store.schema.metadata` in a module of your
   package named `tables` (e.g. `slack_bot/alerts/tables.py`), using the
   column helpers here (`UtcDateTime`, `BigId`) so that both SQLite and
   PostgreSQL behave the same.
2. Add a migration file to `slack_bot/store/migrations/versions/`, named
   and numbered after the last one (`0002_alerts.py` with
   `revision = "0002"`, `down_revision = "0001"`), that creates them with
   `op.create_table(...)`. Migrations spell their tables out instead of
   importing these definitions, so that an old migration never changes.

`tests/store` checks that a migrated database matches every `tables` module
it finds, so a table without a migration (or the reverse) fails the tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "BigId",
    "UtcDateTime",
    "audit_log",
    "metadata",
    "pending_confirmations",
    "seen_requests",
    "slack_links",
    "utcnow",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""An auto-incrementing key: BIGINT on PostgreSQL, INTEGER on SQLite (where
only INTEGER PRIMARY KEY auto-increments)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A point in time, always timezone-aware UTC in Python.

    PostgreSQL stores `timestamptz`; SQLite keeps no zone, so values are
    stored as UTC and given back with the UTC zone attached.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store times must be timezone-aware (use UTC)")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


slack_links = sa.Table(
    "slack_links",
    metadata,
    sa.Column("slack_user_id", sa.String(32), primary_key=True),
    sa.Column("slack_team_id", sa.String(32), nullable=True),
    sa.Column("jarvice_username", sa.String(128), nullable=False, index=True),
    sa.Column("apikey_encrypted", sa.Text(), nullable=False),
    sa.Column("linked_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    comment="Slack user -> JARVICE user; the API key is Fernet-encrypted.",
)

pending_confirmations = sa.Table(
    "pending_confirmations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("slack_user_id", sa.String(32), nullable=False),
    sa.Column("slack_team_id", sa.String(32), nullable=True),
    sa.Column("channel_id", sa.String(32), nullable=True),
    sa.Column("jarvice_username", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("arguments", sa.Text(), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    comment="Confirm cards shown and not yet clicked (any replica may get the click).",
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("slack_user_id", sa.String(32), nullable=False, index=True),
    sa.Column("slack_team_id", sa.String(32), nullable=True),
    sa.Column("channel_id", sa.String(32), nullable=True),
    sa.Column("jarvice_username", sa.String(128), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("arguments", sa.Text(), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text(), nullable=True),
    comment="Every command and click, without secrets; append-only.",
)

seen_requests = sa.Table(
    "seen_requests",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("seen_at", UtcDateTime(), nullable=False, index=True),
    comment="Signatures of recent Slack requests, to refuse replays.",
)
