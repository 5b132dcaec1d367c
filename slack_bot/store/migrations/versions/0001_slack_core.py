"""The Slack app's own tables: user links, pending confirmations, the audit
log and recently seen request signatures.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "slack_links",
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("slack_team_id", sa.String(32), nullable=True),
        sa.Column("jarvice_username", sa.String(128), nullable=False),
        sa.Column("apikey_encrypted", sa.Text(), nullable=False),
        sa.Column("linked_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("slack_user_id", name="pk_slack_links"),
        comment="Slack user -> JARVICE user; the API key is Fernet-encrypted.",
    )
    op.create_index(
        "ix_slack_links_jarvice_username", "slack_links", ["jarvice_username"]
    )

    op.create_table(
        "pending_confirmations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("slack_team_id", sa.String(32), nullable=True),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("jarvice_username", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pending_confirmations"),
        comment=(
            "Confirm cards shown and not yet clicked (any replica may get the click)."
        ),
    )
    op.create_index(
        "ix_pending_confirmations_expires_at",
        "pending_confirmations",
        ["expires_at"],
    )

    op.create_table(
        "audit_log",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("slack_team_id", sa.String(32), nullable=True),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("jarvice_username", sa.String(128), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        comment="Every command and click, without secrets; append-only.",
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_slack_user_id", "audit_log", ["slack_user_id"])

    op.create_table(
        "seen_requests",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("seen_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_seen_requests"),
        comment="Signatures of recent Slack requests, to refuse replays.",
    )
    op.create_index("ix_seen_requests_seen_at", "seen_requests", ["seen_at"])


def downgrade() -> None:
    op.drop_table("seen_requests")
    op.drop_table("audit_log")
    op.drop_table("pending_confirmations")
    op.drop_table("slack_links")
