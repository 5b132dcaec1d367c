"""Job-completion alerts: subscriptions, the delivery ledger, the outbox,
job threads, channel settings, user preferences, the poller lease and the
watcher's state.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("jarvice_username", sa.String(128), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("job_number", sa.BigInteger(), nullable=True),
        sa.Column("failures_only", sa.Boolean(), nullable=False),
        sa.Column("app", sa.String(128), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("ended_reason", sa.String(32), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_subscriptions"),
        comment="What a channel follows; polled with its creator's own credentials.",
    )
    for column in ("channel_id", "slack_user_id", "active"):
        op.create_index(
            f"ix_alert_subscriptions_{column}", "alert_subscriptions", [column]
        )

    op.create_table(
        "alert_deliveries",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("job_number", sa.BigInteger(), nullable=False),
        sa.Column("final_status", sa.String(32), nullable=False),
        sa.Column("destination", sa.String(40), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=True),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("delivered_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
        sa.UniqueConstraint(
            "job_number",
            "final_status",
            "destination",
            name="uq_alert_deliveries_job_number_final_status_destination",
        ),
        comment=(
            "One row per (job, final state, destination): the exactly-once claim."
        ),
    )

    op.create_table(
        "alert_outbox",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("job_number", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("uncertain", sa.Boolean(), nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=False),
        sa.Column("sending_since", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.Column("sent_channel", sa.String(32), nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_outbox"),
        sa.UniqueConstraint("key", name="uq_alert_outbox_key"),
        comment=(
            "Slack calls to make, retried until Slack takes them or refuses for good."
        ),
    )
    op.create_index("ix_alert_outbox_channel", "alert_outbox", ["channel"])
    op.create_index(
        "ix_alert_outbox_state_next_attempt_at",
        "alert_outbox",
        ["state", "next_attempt_at"],
    )

    op.create_table(
        "alert_threads",
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("job_number", sa.BigInteger(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "job_number", name="pk_alert_threads"),
        comment=(
            "The first message about a job in a channel; later ones go in its thread."
        ),
    )

    op.create_table(
        "alert_channel_settings",
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("threads", sa.Boolean(), nullable=False),
        sa.Column("broadcast", sa.Boolean(), nullable=False),
        sa.Column("starts", sa.Boolean(), nullable=False),
        sa.Column("summarise", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name="pk_alert_channel_settings"),
        comment=(
            "How a channel wants its alerts (threads, broadcast, starts, bursts)."
        ),
    )

    op.create_table(
        "alert_user_prefs",
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("notify", sa.String(8), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("slack_user_id", name="pk_alert_user_prefs"),
        comment="How a job's owner is told of its alert: mention, dm or none.",
    )

    op.create_table(
        "alert_lease",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_alert_lease"),
        comment="The replica that polls JARVICE and sends alerts; token fences it.",
    )

    op.create_table(
        "alert_watch_jobs",
        sa.Column("job_number", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("seen_by", sa.String(128), nullable=False),
        sa.Column("explicit", sa.Boolean(), nullable=False),
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("job_number", name="pk_alert_watch_jobs"),
        comment="Jobs the watcher follows, and those it already reported finished.",
    )
    op.create_index(
        "ix_alert_watch_jobs_finished_at", "alert_watch_jobs", ["finished_at"]
    )

    op.create_table(
        "alert_watch_owners",
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("first_seen_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_alert_watch_owners"),
        comment=(
            "JARVICE users whose job lists the watcher has seen (baseline taken)."
        ),
    )


def downgrade() -> None:
    for table in (
        "alert_watch_owners",
        "alert_watch_jobs",
        "alert_lease",
        "alert_user_prefs",
        "alert_channel_settings",
        "alert_threads",
        "alert_outbox",
        "alert_deliveries",
        "alert_subscriptions",
    ):
        op.drop_table(table)
