"""Fixtures for the alert tests: the store (SQLite and PostgreSQL), linked
sandbox users, a fake Slack that keeps history, and an alert service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.web.async_client import AsyncWebClient

from jarvice_tools import Credentials, JarviceClient, RetryPolicy
from jarvice_tools.sandbox import SandboxServer
from slack_bot.alerts import AlertService, AlertSettings
from slack_bot.store import KeyBox, Store, utcnow
from slack_bot.testing import FakeSlack
from tests.alerts.processes import Replicas
from tests.alerts.support import USERS, ChannelHistory, ManualClock

FAST = AlertSettings(
    poll_interval=1.0,
    lease_seconds=15.0,
    pace_seconds=0.0,
    output_lines=5,
    slack_timeout=5.0,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def shared_slack() -> Iterator[FakeSlack]:
    """One fake Slack per module (stopping one takes half a second)."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_slack(shared_slack: FakeSlack) -> FakeSlack:
    """The module's fake Slack, with no calls recorded yet."""
    shared_slack.clear()
    return shared_slack


@pytest.fixture
def history(fake_slack: FakeSlack) -> ChannelHistory:
    return ChannelHistory(fake_slack)


@pytest.fixture
def alerts_database_url(tmp_path: Path) -> str:
    """SQLite for behaviour tests; modules that test storage itself override
    this with the `database_url` fixture (SQLite and PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'alerts.sqlite3'}"


@pytest.fixture
def encryption_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
async def store(alerts_database_url: str, encryption_key: str) -> AsyncIterator[Store]:
    opened = await Store.open(alerts_database_url, keys=KeyBox(encryption_key))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def linked(store: Store, sandbox: SandboxServer) -> dict[str, str]:
    """Each sandbox user linked to a Slack user (see `USERS`)."""
    for username, slack_id in USERS.items():
        key = sandbox.account(username).apikey
        await store.links.save(slack_id, Credentials(username=username, apikey=key))
    return USERS


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(utcnow())


@pytest.fixture
async def jarvice(sandbox: SandboxServer) -> AsyncIterator[JarviceClient]:
    async with JarviceClient(
        sandbox.url, retry=RetryPolicy(attempts=1), timeout=10
    ) as client:
        yield client


ServiceFactory = Callable[..., AlertService]


@pytest.fixture
def make_service(
    store: Store,
    jarvice: JarviceClient,
    fake_slack: FakeSlack,
    history: ChannelHistory,
    clock: ManualClock,
    linked: dict[str, str],
) -> ServiceFactory:
    """Alert services on the shared store (a new one stands for a restart)."""

    def make(
        holder: str = "replica-1",
        settings: AlertSettings = FAST,
        admins: tuple[str, ...] = ("UADMIN",),
        real_time: bool = False,
    ) -> AlertService:
        slack = AsyncWebClient(
            token="xoxb-test", base_url=fake_slack.api_url, retry_handlers=[]
        )
        return AlertService(
            store=store,
            jarvice=jarvice,
            slack=slack,
            settings=settings,
            admins=admins,
            holder=holder,
            clock=utcnow if real_time else clock,
        )

    return make


@pytest.fixture
async def service(make_service: ServiceFactory) -> AlertService:
    """A service holding the poller lease."""
    created = make_service()
    assert await created.lease.acquire()
    return created


@pytest.fixture
def replicas(
    alerts_database_url: str,
    encryption_key: str,
    sandbox: SandboxServer,
    fake_slack: FakeSlack,
    store: Store,
) -> Iterator[Replicas]:
    """Alert services in their own processes, on the test's database."""
    started = Replicas(
        alerts_database_url, encryption_key, sandbox.url, fake_slack.api_url
    )
    try:
        yield started
    finally:
        started.stop_all()
