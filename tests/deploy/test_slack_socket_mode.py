"""`jarvice-slack` in Socket Mode, as a real process against the fake Slack
Web API and a loopback WebSocket: /health answers while Slack is still being
reached (a startup probe keeps the pod), /ready says whether the connection
is up, and a refused app token stops the app with one sentence."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from cryptography.fernet import Fernet

from jarvice_tools.sandbox import SandboxServer
from slack_bot import messages
from slack_bot.testing import FakeSlack
from tests.deploy.support import ROOT, free_port

APP_TOKEN = "xapp-1-socket-mode-test"
WITHIN = 30.0


class FakeSocketMode:
    """A WebSocket on loopback speaking just enough Socket Mode: it greets
    each connection with `hello` and keeps it open (pings are answered)."""

    def __init__(self) -> None:
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for _ in ws:
            pass
        return ws


def opens_at(url: str) -> Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]:
    """A fake `apps.connections.open` handing out `url`."""
    return lambda fake, body: {"ok": True, "url": url}


class SlackApp:
    """`python -m slack_bot` (what `jarvice-slack` runs) in Socket Mode."""

    def __init__(self, slack: FakeSlack, sandbox: SandboxServer, tmp: Path) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-socket-mode-test",
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "JARVICE_API_URL": sandbox.url,
            "JARVICE_TOOLS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "DATABASE_URL": f"sqlite:///{tmp / 'slack.sqlite3'}",
            "ALERTS_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "slack_bot", "--host", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=10)

    def wait_for(self, condition: Callable[[], bool]) -> None:
        """Until `condition()` holds (the app may not listen yet), or fail."""
        deadline = time.monotonic() + WITHIN
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.communicate()[1]
            try:
                if condition():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"not within {WITHIN} s")

    def stop(self) -> tuple[int, str]:
        """SIGTERM to this process only; its exit code and stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, stderr = self.process.communicate(timeout=WITHIN)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate(timeout=WITHIN)
        return self.process.returncode, stderr


@pytest.fixture
def start_app(
    fake_slack: FakeSlack, sandbox: SandboxServer, tmp_path: Path
) -> Iterator[Callable[[], SlackApp]]:
    started: list[SlackApp] = []

    def start() -> SlackApp:
        started.append(SlackApp(fake_slack, sandbox, tmp_path))
        return started[-1]

    yield start
    for app in started:
        app.stop()


def test_health_is_served_while_slack_is_not_reached(
    start_app: Callable[[], SlackApp], fake_slack: FakeSlack
) -> None:
    nowhere = f"ws://127.0.0.1:{free_port()}/link"  # nothing listens there
    fake_slack.handlers["apps.connections.open"] = opens_at(nowhere)
    app = start_app()

    app.wait_for(lambda: app.get("/health").status_code == 200)
    ready = app.get("/ready")
    metrics = app.get("/metrics")

    assert ready.status_code == 503
    assert ready.json()["checks"] == {"jarvice": True, "database": True, "slack": False}
    assert metrics.status_code == 200
    assert app.get("/slack/events").status_code == 404


def test_ready_reports_the_socket_mode_connection_once_it_is_up(
    start_app: Callable[[], SlackApp], fake_slack: FakeSlack
) -> None:
    with FakeSocketMode() as slack_socket:
        fake_slack.handlers["apps.connections.open"] = opens_at(slack_socket.url)
        app = start_app()

        app.wait_for(lambda: app.get("/ready").status_code == 200)
        checks = app.get("/ready").json()["checks"]
        code, stderr = app.stop()

    assert checks == {"jarvice": True, "database": True, "slack": True}
    opened = fake_slack.calls("apps.connections.open")
    assert opened
    assert {c.authorization for c in opened} == {f"Bearer {APP_TOKEN}"}
    # uvicorn stops on SIGTERM, then lets the signal end the process.
    assert code in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked"])
def test_a_refused_app_token_stops_the_app_with_one_sentence(
    start_app: Callable[[], SlackApp], fake_slack: FakeSlack, error: str
) -> None:
    fake_slack.fail("apps.connections.open", error=error)
    app = start_app()

    code, stderr = app.process.wait(timeout=WITHIN), app.stop()[1]

    assert code == 1
    assert stderr.strip().splitlines()[-1] == messages.socket_mode_refused(error)
    assert "Traceback" not in stderr
    assert len(fake_slack.calls("apps.connections.open")) == 1
