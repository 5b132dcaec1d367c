"""The watcher's catch-up horizon per user: which completed jobs are news
when a user's completed list is read (jobs that started and ended between
two polls). Users without one get a baseline read first.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = ("horizon_floor", "horizon_latest")


def upgrade() -> None:
    with op.batch_alter_table("alert_watch_owners") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_watch_owners") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
