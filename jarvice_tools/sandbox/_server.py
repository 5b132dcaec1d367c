"""SandboxServer: start and stop the sandbox, in a thread or in a loop."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import socket
import ssl
import threading
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from ._clock import Clock, ClockMode
from ._faults import ControlState, Fault, ReceivedRequest, fault_body
from ._http import build_app
from ._seed import ACCOUNTS, Account
from ._world import JobView, World

START_TIMEOUT = 10.0
MAX_PORT = 65535


class SandboxServer:
    """A JARVICE-compatible API server with simulated jobs.

    ``start()`` serves from a background thread with its own event loop;
    ``async with`` serves from the running loop instead. ``url`` is a
    ``JARVICE_API_URL`` value: the API is at ``url + "/jarvice/<endpoint>"``.
    ``clock="manual"`` moves only on :meth:`advance`; ``control=True`` adds
    the ``/_sandbox/`` HTTP control surface; ``latency`` delays every API
    reply by that many seconds; ``ssl_context`` serves HTTPS. ``epoch``
    sets a manual clock's start (default: now, to the second).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: ClockMode = "real",
        control: bool = False,
        latency: float = 0.0,
        ssl_context: ssl.SSLContext | None = None,
        *,
        epoch: float | None = None,
    ) -> None:
        if not math.isfinite(latency) or latency < 0:
            raise ValueError("latency must be a finite number of seconds >= 0")
        if not 0 <= port <= MAX_PORT:
            raise ValueError(f"port must be 0 to {MAX_PORT} (0: any free port)")
        self.host = host
        self.port = port
        self.control = control
        self.latency = latency
        self.ssl_context = ssl_context
        self.clock_mode: ClockMode = clock
        self._clock = Clock(clock, epoch)
        self._world = World(self._clock)
        self._control = ControlState()
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the sandbox is not started")
        scheme = "https" if self.ssl_context else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    async def _serve(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        runner = web.AppRunner(build_app(self), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.SockSite(runner, sock, ssl_context=self.ssl_context)
        await site.start()
        self.port = sock.getsockname()[1]
        self._runner = runner

    async def _close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def start(self) -> SandboxServer:
        """Serve from a background thread; returns once listening."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # handed to start() below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._close())
            loop.close()

        thread = threading.Thread(target=run, name="jarvice-sandbox", daemon=True)
        thread.start()
        if not ready.wait(START_TIMEOUT):
            raise RuntimeError("the sandbox did not start in time")
        if failure:
            thread.join()
            raise failure[0]
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        self._loop = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxServer:
        if self._runner is not None:
            raise RuntimeError("the sandbox is already started")
        await self._serve()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._close()

    # -- the seeded world ----------------------------------------------------

    @property
    def accounts(self) -> list[Account]:
        return list(ACCOUNTS)

    def account(self, username: str) -> Account:
        for account in ACCOUNTS:
            if account.username == username:
                return account
        with self._world.lock:
            if username in self._world.accounts:
                return self._world.accounts[username]
        raise KeyError(username)

    def add_account(self, username: str, *, team: str = "globex") -> Account:
        """Add a user login to an existing team (gone again after `reset()`),
        for benchmarks that need more users than the seeded ones."""
        with self._world.lock:
            return self._world.add_account(username, team=team)

    def accounts_json(self) -> list[dict[str, str]]:
        return [dataclasses.asdict(account) for account in ACCOUNTS]

    # -- test control (thread-safe) ------------------------------------------

    def now(self) -> float:
        return self._clock.now()

    def advance(self, seconds: float) -> None:
        """Move the clock forward; jobs progress accordingly."""
        with self._world.lock:
            self._clock.advance(seconds)

    def set_status(
        self,
        number: int,
        status: str,
        substatus: int | None = None,
        *,
        when: Literal["now", "end"] = "now",
    ) -> None:
        """Force a job's status now, or with ``when="end"`` the final status
        it ends with when its run ends or it is shut down (KeyError: no such
        job; ValueError: not a status that can be forced then)."""
        if substatus is not None and (
            isinstance(substatus, bool) or not isinstance(substatus, int)
        ):
            raise TypeError("substatus must be an integer")
        with self._world.lock:
            self._world.force_status(number, status, substatus, when)

    def inject_fault(
        self,
        endpoint: str,
        *,
        status: int | None = None,
        delay: float = 0.0,
        body: str | dict[str, Any] | list[Any] | None = None,
        malformed: bool = False,
        drop: bool = False,
        times: int = 1,
        after: bool = False,
    ) -> None:
        """Make the next ``times`` calls to ``endpoint`` (or ``"*"``) fail.

        ``body`` is sent as given, or written as JSON if it is an object or
        a list. ValueError if a value is not of its documented type (an
        unknown endpoint, ``times`` not a positive integer, ...).
        """
        text = fault_body(body)
        fault = Fault(endpoint, status, delay, text, malformed, drop, times, after)
        self._control.add_fault(fault)

    def clear_faults(self) -> None:
        self._control.clear_faults()

    @property
    def requests(self) -> list[ReceivedRequest]:
        return self._control.received()

    def clear_requests(self) -> None:
        self._control.clear_requests()

    def reset(self) -> None:
        """Back to the seeded world: clock, jobs, faults and request log."""
        with self._world.lock:
            self._world.reset()
        self._control.clear_faults()
        self._control.clear_requests()

    def jobs_of(self, username: str) -> list[JobView]:
        with self._world.lock:
            return [self._world.view(j) for j in self._world.jobs_of([username])]

    def job(self, number: int) -> JobView:
        """A snapshot of one job (KeyError: no such job)."""
        with self._world.lock:
            return self._world.view(self._world.job(number))

    def _job_json(self, number: int) -> dict[str, Any]:
        view = dataclasses.asdict(self.job(number))
        view["output"] = list(view["output"])
        return view
