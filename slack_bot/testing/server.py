"""The whole app served over HTTP by uvicorn in a background thread.

    with ServedBot(settings) as served:
        httpx.post(f"{served.url}/slack/events", content=..., headers=...)

It runs what `jarvice-slack` runs (store opened and migrated, Bolt app,
ASGI adapter, uvicorn) on its own event loop, bound to 127.0.0.1 on a free
port. For tests and benchmarks of the real HTTP path.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Self

import uvicorn

from jarvice_tools.client import JarviceClient, RetryPolicy
from jarvice_tools.metrics import MeteredTransport
from slack_bot.app import create_bot
from slack_bot.bot import SlackBot
from slack_bot.server import asgi_app
from slack_bot.settings import SlackSettings
from slack_bot.store import Store

__all__ = ["ServedBot"]

START_TIMEOUT = 20.0


class ServedBot:
    def __init__(
        self,
        settings: SlackSettings,
        *,
        extensions: Iterable[str] = (),
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.extensions = tuple(extensions)
        self.retry = retry
        self.bot: SlackBot | None = None
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: list[BaseException] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._run, name="served-slack-bot", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the Slack app did not start in time")
        if self._failure:
            raise self._failure[0]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(START_TIMEOUT)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:
            self._failure.append(error)
            self._ready.set()

    async def _serve(self) -> None:
        settings = self.settings
        store = await Store.open(settings.database_url, keys=settings.key_box())
        jarvice = JarviceClient(
            settings.jarvice_api_url,
            timeout=settings.jarvice_timeout,
            retry=self.retry,
            transport=MeteredTransport(),
        )
        try:
            bot = create_bot(
                settings, store=store, jarvice=jarvice, extensions=self.extensions
            )
            self.bot = bot
            config = uvicorn.Config(
                asgi_app(bot),
                host="127.0.0.1",
                port=0,
                log_config=None,
                access_log=False,
                lifespan="off",
            )
            server = uvicorn.Server(config)
            self._server = server
            task = asyncio.ensure_future(server.serve())
            while not server.started:
                if task.done():
                    await task
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
            self.port = server.servers[0].sockets[0].getsockname()[1]
            await bot.start()
            self._ready.set()
            await task
            await bot.stop()
        finally:
            await jarvice.aclose()
            await store.close()
