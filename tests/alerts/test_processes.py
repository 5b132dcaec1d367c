"""A real process killed with SIGKILL at a bad moment: in the middle of
recording a poll, or after Slack took the alert but before it was marked
sent. A successor over the same database posts each alert exactly once."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from jarvice_tools import JarviceClient
from jarvice_tools.sandbox import SandboxServer
from slack_bot.alerts.subscriptions import Scope
from slack_bot.store import Store
from tests.alerts.conftest import ServiceFactory
from tests.alerts.processes import (
    Replicas,
    baseline_of,
    count_alerts,
    holds,
    nothing_unsent,
    subscribe,
    tracked,
    until,
)
from tests.alerts.replica import SETTINGS
from tests.alerts.support import ChannelHistory
from tests.watch.support import submit

pytestmark = pytest.mark.anyio


@pytest.fixture
def alerts_database_url(database_url: str) -> str:
    """On SQLite and on PostgreSQL."""
    return database_url


@pytest.mark.parametrize("point", ["in-transaction", "after-post"])
async def test_a_process_killed_at_a_bad_moment_neither_loses_nor_repeats(
    store: Store,
    linked: dict[str, str],
    replicas: Replicas,
    make_service: ServiceFactory,
    sandbox: SandboxServer,
    jarvice: JarviceClient,
    history: ChannelHistory,
    tmp_path: Path,
    point: str,
) -> None:
    await subscribe(store, "alice", "UALICE", Scope.MINE, "CTEAM")
    marker = anyio.Path(tmp_path / "reached")
    replicas.start("doomed", "--hang-at", point, "--marker", str(marker))
    await until(baseline_of(store, "alice"))
    number = await submit(jarvice, sandbox, "alice", "sleep 100")
    await until(tracked(store, number))
    sandbox.set_status(number, "COMPLETED WITH ERROR")

    await until(marker.exists)
    replicas.kill("doomed")
    assert count_alerts(history, "CTEAM", number) == (point == "after-post")

    successor = make_service(holder="successor", settings=SETTINGS, real_time=True)
    async with anyio.create_task_group() as group:
        group.start_soon(successor.run)
        await until(holds(lambda: count_alerts(history, "CTEAM", number)))
        await until(lambda: nothing_unsent(store))
        successor.stop()
    assert count_alerts(history, "CTEAM", number) == 1
