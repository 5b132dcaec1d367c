"""Two Slack app processes (`python -m slack_bot`, as `jarvice-slack` runs)
racing on one PostgreSQL database: one polls at a time, the other takes over
when it is killed, and every finished job is announced exactly once per
channel."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jarvice_tools import JarviceClient
from jarvice_tools.sandbox import SandboxServer
from slack_bot.alerts.subscriptions import Scope
from slack_bot.alerts.tables import alert_lease
from slack_bot.store import Store
from tests.alerts.processes import (
    Replicas,
    baseline_of,
    count_alerts,
    holds,
    nothing_unsent,
    scalar,
    subscribe,
    tracked,
    until,
)
from tests.alerts.support import ChannelHistory
from tests.watch.support import submit

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


FAST_ALERTS = {
    "ALERTS_POLL_INTERVAL": "0.2",
    "ALERTS_LEASE_SECONDS": "1",
    "ALERTS_PACE_SECONDS": "0",
    "ALERTS_BURST": "0",
    "ALERTS_SLACK_TIMEOUT": "2",
    "ALERTS_CLOCK_SKEW": "0.5",
}


@pytest.fixture
def alerts_database_url(postgres_database_url: str) -> str:
    return postgres_database_url


async def test_two_processes_on_one_postgresql_alert_once_per_job(
    store: Store,
    linked: dict[str, str],
    replicas: Replicas,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
) -> None:
    await subscribe(store, "alice", "UALICE", Scope.MINE, "CALICE")
    await subscribe(store, "carol", "UCAROL", Scope.TEAM, "CTEAM")
    for name in ("app-a", "app-b"):
        replicas.start_app(name, FAST_ALERTS)
    await until(baseline_of(store, "alice"))
    await until(baseline_of(store, "bob"))

    owners = ["alice", "bob", "alice", "bob", "alice", "bob"]
    jobs = [await submit(jarvice, sandbox, owner, "sleep 100") for owner in owners]
    for number in jobs:
        await until(tracked(store, number))
    for number in jobs[:3]:
        sandbox.set_status(number, "COMPLETED")
    first_three = jobs[:3]
    await until(
        holds(lambda: all(count_alerts(history, "CTEAM", n) for n in first_three))
    )

    holder = str(await scalar(store, sa.select(alert_lease.c.holder)))
    replicas.kill(replicas.name_of(holder))
    for number in jobs[3:]:
        sandbox.set_status(number, "TERMINATED")
    await until(holds(lambda: all(count_alerts(history, "CTEAM", n) for n in jobs)))
    await until(lambda: nothing_unsent(store))

    survivor = str(await scalar(store, sa.select(alert_lease.c.holder)))
    assert survivor != holder
    assert replicas.name_of(survivor) in ("app-a", "app-b")
    assert [count_alerts(history, "CTEAM", n) for n in jobs] == [1] * 6
    alice_jobs = [n for n, owner in zip(jobs, owners, strict=True) if owner == "alice"]
    assert [count_alerts(history, "CALICE", n) for n in alice_jobs] == [1] * 3
