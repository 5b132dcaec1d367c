"""The alert tables (revisions 0002 and 0003), on the store's shared metadata.

- `alert_subscriptions`: what a channel follows (a job, a user's jobs, a
  team's jobs; all final states or failures only; one app).
- `alert_deliveries`: the ledger. One row per (job, final state,
  destination), claimed by a unique key before anything is queued, so each
  destination is told once whatever restarts or replicas do.
- `alert_outbox`: Slack calls still to make, retried until Slack takes them.
- `alert_threads`: the first message about a job in a channel, under which
  later ones are threaded.
- `alert_channel_settings`, `alert_user_prefs`: per-channel and per-user
  choices.
- `alert_lease`: which replica polls JARVICE and sends (a lease with a
  fencing token).
- `alert_watch_jobs`, `alert_watch_owners`: the watcher's state, so that a
  restart or a new leader carries on where the last one stopped (the
  owners' catch-up horizons since revision 0003).
"""

from __future__ import annotations

import sqlalchemy as sa

from slack_bot.store.schema import BigId, UtcDateTime, metadata

__all__ = [
    "alert_channel_settings",
    "alert_deliveries",
    "alert_lease",
    "alert_outbox",
    "alert_subscriptions",
    "alert_threads",
    "alert_user_prefs",
    "alert_watch_jobs",
    "alert_watch_owners",
]

alert_subscriptions = sa.Table(
    "alert_subscriptions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("channel_id", sa.String(32), nullable=False, index=True),
    sa.Column("slack_user_id", sa.String(32), nullable=False, index=True),
    sa.Column("jarvice_username", sa.String(128), nullable=False),
    sa.Column("scope", sa.String(8), nullable=False),
    sa.Column("owner", sa.String(128), nullable=True),
    sa.Column("job_number", sa.BigInteger(), nullable=True),
    sa.Column("failures_only", sa.Boolean(), nullable=False),
    sa.Column("app", sa.String(128), nullable=True),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, index=True),
    sa.Column("ended_reason", sa.String(32), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    comment="What a channel follows; polled with its creator's own credentials.",
)

alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("job_number", sa.BigInteger(), nullable=False),
    sa.Column("final_status", sa.String(32), nullable=False),
    sa.Column("destination", sa.String(40), nullable=False),
    sa.Column("subscription_id", sa.BigInteger(), nullable=True),
    sa.Column("outbox_id", sa.BigInteger(), nullable=True),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("job_number", "final_status", "destination"),
    comment="One row per (job, final state, destination): the exactly-once claim.",
)

alert_outbox = sa.Table(
    "alert_outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(160), nullable=False, unique=True),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False, index=True),
    sa.Column("job_number", sa.BigInteger(), nullable=True),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("parent_id", sa.BigInteger(), nullable=True),
    sa.Column("thread_ts", sa.String(32), nullable=True),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("uncertain", sa.Boolean(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("sending_since", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("sent_channel", sa.String(32), nullable=True),
    sa.Column("ts", sa.String(32), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Index(None, "state", "next_attempt_at"),
    comment="Slack calls to make, retried until Slack takes them or refuses for good.",
)

alert_threads = sa.Table(
    "alert_threads",
    metadata,
    sa.Column("channel_id", sa.String(32), primary_key=True),
    sa.Column("job_number", sa.BigInteger(), primary_key=True),
    sa.Column("outbox_id", sa.BigInteger(), nullable=True),
    sa.Column("ts", sa.String(32), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    comment="The first message about a job in a channel; later ones go in its thread.",
)

alert_channel_settings = sa.Table(
    "alert_channel_settings",
    metadata,
    sa.Column("channel_id", sa.String(32), primary_key=True),
    sa.Column("threads", sa.Boolean(), nullable=False),
    sa.Column("broadcast", sa.Boolean(), nullable=False),
    sa.Column("starts", sa.Boolean(), nullable=False),
    sa.Column("summarise", sa.Boolean(), nullable=False),
    sa.Column("updated_by", sa.String(32), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    comment="How a channel wants its alerts (threads, broadcast, starts, bursts).",
)

alert_user_prefs = sa.Table(
    "alert_user_prefs",
    metadata,
    sa.Column("slack_user_id", sa.String(32), primary_key=True),
    sa.Column("notify", sa.String(8), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    comment="How a job's owner is told of its alert: mention, dm or none.",
)

alert_lease = sa.Table(
    "alert_lease",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("token", sa.BigInteger(), nullable=False),
    sa.Column("acquired_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    comment="The replica that polls JARVICE and sends alerts; token fences it.",
)

alert_watch_jobs = sa.Table(
    "alert_watch_jobs",
    metadata,
    sa.Column("job_number", sa.BigInteger(), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("seen_by", sa.String(128), nullable=False),
    sa.Column("explicit", sa.Boolean(), nullable=False),
    sa.Column("job", sa.Text(), nullable=False),
    sa.Column("finished_at", sa.Float(), nullable=True, index=True),
    comment="Jobs the watcher follows, and those it already reported finished.",
)

alert_watch_owners = sa.Table(
    "alert_watch_owners",
    metadata,
    sa.Column("username", sa.String(128), primary_key=True),
    sa.Column("first_seen_at", UtcDateTime(), nullable=False),
    sa.Column("horizon_floor", sa.BigInteger(), nullable=True),
    sa.Column("horizon_latest", sa.BigInteger(), nullable=True),
    comment="JARVICE users whose job lists the watcher has seen (baseline taken).",
)
