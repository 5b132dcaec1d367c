"""The Slack app's SQL store (SQLAlchemy 2, async; Alembic migrations).

    store = await Store.open(os.environ.get("DATABASE_URL"), keys=KeyBox(key))
    await store.links.save("U123", Credentials(username="alice", apikey=key))
    creds = await store.links.credentials("U123")       # decrypted, or None
    decision = await store.confirmations.decide(card_id, slack_user_id="U123",
                                                confirm=True)
    await store.audit.record(AuditEntry(kind="command", ...))
    async with store.engine.begin() as connection: ...  # your own tables

`DATABASE_URL` is a file path or `sqlite:///path` (SQLite, the default
`jarvice-slack.sqlite3`) or `postgresql+psycopg://...`. Migrations run when
the store opens; `python -m slack_bot.store upgrade|current|revision` runs
them by hand. How to add tables: see `slack_bot.store.schema`.
"""

from slack_bot.store.audit import AuditEntry, AuditLog
from slack_bot.store.confirmations import (
    Confirmations,
    Decision,
    PendingConfirmation,
    Verdict,
)
from slack_bot.store.core import Store, StoreUnavailable, create_engine
from slack_bot.store.crypto import KeyBox, UnreadableSecret
from slack_bot.store.links import Link, Links
from slack_bot.store.migrate import current_revision, head_revision, upgrade
from slack_bot.store.replay import ReplayGuard
from slack_bot.store.schema import BigId, UtcDateTime, metadata, utcnow
from slack_bot.store.sql import insert_ignore, upsert
from slack_bot.store.urls import DEFAULT_DATABASE_FILE, database_url, display_url

__all__ = [
    "DEFAULT_DATABASE_FILE",
    "AuditEntry",
    "AuditLog",
    "BigId",
    "Confirmations",
    "Decision",
    "KeyBox",
    "Link",
    "Links",
    "PendingConfirmation",
    "ReplayGuard",
    "Store",
    "StoreUnavailable",
    "UnreadableSecret",
    "UtcDateTime",
    "Verdict",
    "create_engine",
    "current_revision",
    "database_url",
    "display_url",
    "head_revision",
    "insert_ignore",
    "metadata",
    "upgrade",
    "upsert",
    "utcnow",
]
