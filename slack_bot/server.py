"""Serving the Slack app: HTTP under uvicorn, or Socket Mode.

HTTP mode serves Bolt's `POST /slack/events` through Bolt's ASGI adapter
under uvicorn (not Bolt's development server), behind the shared
operations routes (`jarvice_tools.health`): `GET /health`, `GET /ready`
(JARVICE and the database answer) and `GET /metrics`. Socket Mode (when
SLACK_APP_TOKEN is set) serves only the operations routes on the port, from
the start, and connects out to Slack beside them (`slack_bot.socket_mode`);
`/ready` then also says whether the connection is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

import sqlalchemy as sa
import uvicorn
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler

from jarvice_tools.client import JarviceClient
from jarvice_tools.health import (
    ASGIApp,
    ReadyCheck,
    Receive,
    Scope,
    Send,
    jarvice_check,
    with_ops_routes,
)
from jarvice_tools.metrics import MeteredTransport
from slack_bot.app import create_bot
from slack_bot.bot import SlackBot
from slack_bot.settings import SlackSettings
from slack_bot.socket_mode import SocketLink
from slack_bot.store import Store

__all__ = ["EVENTS_PATH", "asgi_app", "serve"]

logger = logging.getLogger("slack_bot")

EVENTS_PATH = "/slack/events"


def asgi_app(bot: SlackBot, *, socket: SocketLink | None = None) -> ASGIApp:
    """The ASGI application: Slack's events at /slack/events (HTTP mode;
    none in Socket Mode, when `socket` is given), behind the shared
    operations routes `/health`, `/ready` (JARVICE, the database and, in
    Socket Mode, the connection to Slack) and `/metrics`."""
    slack = AsyncSlackRequestHandler(bot.app, path=EVENTS_PATH)
    events = socket is None

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif events and scope.get("path") == EVENTS_PATH:
            await slack(scope, receive, send)  # type: ignore[arg-type]
        else:
            await _not_found(send)

    checks: dict[str, ReadyCheck] = {
        "jarvice": jarvice_check(bot.jarvice),
        "database": partial(database_answers, bot.store),
    }
    if socket is not None:
        checks["slack"] = socket.connected
    return with_ops_routes(application, checks=checks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _not_found(send: Send) -> None:
    body = b'{"error": "not found"}'
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def database_answers(store: Store) -> bool:
    """Readiness: the database answers a trivial query."""
    async with store.engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))
    return True


async def serve(settings: SlackSettings, *, host: str, port: int) -> None:
    """Open the store (migrating it), build the app and serve until stopped.

    Raises `SocketModeRefused` when Slack refuses SLACK_APP_TOKEN."""
    store = await Store.open(settings.database_url, keys=settings.key_box())
    jarvice = JarviceClient(
        settings.jarvice_api_url,
        timeout=settings.jarvice_timeout,
        transport=MeteredTransport(),
    )
    bot = create_bot(settings, store=store, jarvice=jarvice)
    socket = _socket_link(bot, settings)
    try:
        await bot.start()
        server = uvicorn.Server(
            _uvicorn_config(asgi_app(bot, socket=socket), host, port)
        )
        mode = "Socket Mode (health only)" if socket else f"HTTP at {EVENTS_PATH}"
        logger.info("serving %s on %s:%d", mode, host, port)
        await _serve(server, socket)
    finally:
        if socket is not None:
            await socket.close()
        await bot.stop()
        await jarvice.aclose()
        await store.close()


def _socket_link(bot: SlackBot, settings: SlackSettings) -> SocketLink | None:
    if settings.app_token is None:
        return None
    return SocketLink(bot, settings.app_token.get_secret_value())


def _uvicorn_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


async def _serve(server: uvicorn.Server, socket: SocketLink | None) -> None:
    """Serve HTTP at once; in Socket Mode connect to Slack beside it, and
    stop serving when the connection fails for good (a refused token)."""
    if socket is None:
        await server.serve()
        return
    connecting = asyncio.create_task(socket.connect())

    def stop_if_failed(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            server.should_exit = True

    connecting.add_done_callback(stop_if_failed)
    try:
        await server.serve()
    finally:
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connecting  # raises what made the connection fail
