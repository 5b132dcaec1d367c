"""Shared pytest fixtures. Each engineer keeps to their own delimited section."""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Store databases and fake Slack (owner: slack). `database_url` yields a
# fresh, empty database URL (a DATABASE_URL value), once on SQLite and once
# on PostgreSQL; `fake_slack` a fake Slack Web API on loopback.
# PostgreSQL runs against JARVICE_TOOLS_POSTGRES_URL (default: the local
# server, user postgres, trust auth): each test gets a throwaway database,
# dropped afterwards. Without a reachable server the PostgreSQL cases skip,
# unless JARVICE_TOOLS_REQUIRE_POSTGRES is set (CI), where they fail.
# ---------------------------------------------------------------------------
import functools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from jarvice_tools.sandbox import SandboxServer
from slack_bot.testing import FakeSlack

POSTGRES_ADMIN_URL = os.environ.get(
    "JARVICE_TOOLS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@functools.cache
def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"no PostgreSQL server at {POSTGRES_ADMIN_URL} ({first})"
    return None


def require_postgres() -> None:
    """Skip (or, with JARVICE_TOOLS_REQUIRE_POSTGRES set, fail) the current
    test when PostgreSQL is not reachable."""
    problem = _postgres_problem()
    if problem is None:
        return
    if os.environ.get("JARVICE_TOOLS_REQUIRE_POSTGRES"):
        pytest.fail(f"{problem}, and JARVICE_TOOLS_REQUIRE_POSTGRES is set")
    pytest.skip(f"{problem}; set JARVICE_TOOLS_REQUIRE_POSTGRES=1 to make this fail")


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A throwaway PostgreSQL database (postgresql+psycopg:// URL)."""
    require_postgres()
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"jt_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL).set(
        drivername="postgresql+psycopg", database=name
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url: str = request.getfixturevalue("postgres_database_url")
    return url


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on loopback (see slack_bot.testing.fake_slack):
    `api_url` for SLACK_API_URL, `response_url(name)`, recorded `calls()`,
    and `fail(...)` for 429/5xx/not_in_channel."""
    with FakeSlack() as fake:
        yield fake


# --- end of section: store databases ----------------------------------------


# ---------------------------------------------------------------------------
# Sandbox (owner: sandbox). `sandbox` yields a started SandboxServer with a
# manual clock and the /_sandbox/ control surface, fresh for every test:
# start-up takes a few milliseconds (measured 2-5 ms), so no server is
# shared. `anyio_backend` runs `pytest.mark.anyio` tests on asyncio.
# ---------------------------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A started sandbox on a free port: manual clock, control surface on."""
    with SandboxServer(clock="manual", control=True) as server:
        yield server


# --- end of section: sandbox -------------------------------------------------


# ---------------------------------------------------------------------------
# Secrets (owner: core). Every test's log records are checked for the
# sandbox's seeded API keys: a key in any log line fails the test that
# logged it, whichever library logged it.
# ---------------------------------------------------------------------------
import logging  # noqa: E402

SEEDED_KEYS = tuple(account.apikey for account in SandboxServer().accounts)


@pytest.fixture(autouse=True)
def no_api_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    leaked = [
        record.name
        for record in caplog.records
        if any(key in record.getMessage() for key in SEEDED_KEYS)
    ]
    assert not leaked, f"an API key was logged by {sorted(set(leaked))}"


# --- end of section: secrets -------------------------------------------------
