"""Helpers for tests that run the alert service in separate processes and
look at the shared database from the test process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import sqlalchemy as sa

from slack_bot.alerts.subscriptions import Scope, Subscriptions
from slack_bot.alerts.tables import alert_outbox, alert_watch_jobs, alert_watch_owners
from slack_bot.store import Store
from tests.alerts.support import ChannelHistory

ROOT = Path(__file__).resolve().parents[2]
WITHIN = 20.0

Condition = Callable[[], Awaitable[object]]


class Replicas:
    """Processes started by one test, and only those (stopped or killed by
    their process id): alert services (`tests.alerts.replica`) or whole
    Slack apps."""

    def __init__(self, database: str, key: str, sandbox: str, slack: str) -> None:
        self.database, self.sandbox, self.slack = database, sandbox, slack
        self.args = ["--database", database, "--jarvice", sandbox, "--slack", slack]
        self.env = {**os.environ, "JARVICE_TOOLS_ENCRYPTION_KEY": key}
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, holder: str, *extra: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "tests.alerts.replica", *self.args]
        process = subprocess.Popen(
            [*command, "--holder", holder, *extra],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.running[holder] = process
        return process

    def start_app(self, name: str, settings: dict[str, str]) -> subprocess.Popen[bytes]:
        """The whole Slack app (`python -m slack_bot`, as `jarvice-slack`),
        with the alert service started by its lifecycle hooks."""
        env = {
            **self.env,
            **settings,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "alerts-test-signing-secret",
            "SLACK_API_URL": self.slack,
            "SLACK_ADMIN_USERS": "UADMIN",
            "JARVICE_API_URL": self.sandbox,
            "DATABASE_URL": self.database,
            "LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "slack_bot", "--host", "127.0.0.1", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.running[name] = process
        return process

    def kill(self, name: str) -> None:
        """SIGKILL: no clean-up of any kind runs in the process."""
        process = self.running.pop(name)
        process.kill()
        process.wait(timeout=10)

    def name_of(self, holder: str) -> str:
        """Which started process a lease holder (`host:pid:suffix`) is."""
        pid = int(holder.split(":")[1])
        return next(n for n, p in self.running.items() if p.pid == pid)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.running.clear()


async def until(condition: Condition, within: float = WITHIN) -> None:
    """Wait for an async condition, checked every 20 ms, up to a deadline."""
    with anyio.fail_after(within):
        while True:
            if await condition():
                return
            await anyio.sleep(0.02)


def holds(value: Callable[[], object]) -> Condition:
    """A plain condition as an async one, for `until`."""

    async def check() -> object:
        return value()

    return check


async def scalar(store: Store, query: sa.Select[tuple[object]]) -> object:
    async with store.engine.connect() as connection:
        return await connection.scalar(query)


def tracked(store: Store, number: int) -> Condition:
    """The watcher's recorded state follows this job."""
    table = alert_watch_jobs
    query = sa.select(table.c.job_number).where(table.c.job_number == number)
    return lambda: scalar(store, query)


def baseline_of(store: Store, username: str) -> Condition:
    """The watcher has read this user's job list at least once."""
    table = alert_watch_owners
    query = sa.select(table.c.username).where(table.c.username == username)
    return lambda: scalar(store, query)


async def nothing_unsent(store: Store) -> bool:
    count = await scalar(
        store,
        sa.select(sa.func.count())
        .select_from(alert_outbox)
        .where(alert_outbox.c.state != "sent"),
    )
    return count == 0


def count_alerts(history: ChannelHistory, channel: str, number: int) -> int:
    return sum(f"Job {number} " in text for text in history.texts(channel))


async def subscribe(
    store: Store, username: str, slack_id: str, scope: Scope, channel: str
) -> None:
    await Subscriptions(store.engine).add(
        channel_id=channel,
        slack_user_id=slack_id,
        jarvice_username=username,
        scope=scope,
        owner=username,
    )
