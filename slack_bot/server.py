"""Serving the Slack app: HTTP under uvicorn, or Socket Mode.

HTTP mode serves Bolt's `POST /slack/events` through Bolt's ASGI adapter
under uvicorn (not Bolt's development server), behind the shared
operations routes (`jarvice_tools.health`): `GET /health`, `GET /ready`
(JARVICE and the database answer) and `GET /metrics`. Socket Mode (when
SLACK_APP_TOKEN is set) connects out to Slack and serves only the
operations routes on the port.
"""

from __future__ import annotations

import logging
from functools import partial

import sqlalchemy as sa
import uvicorn
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

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
from slack_bot.store import Store

__all__ = ["EVENTS_PATH", "asgi_app", "serve"]

logger = logging.getLogger("slack_bot")

EVENTS_PATH = "/slack/events"


def asgi_app(bot: SlackBot, *, events: bool = True) -> ASGIApp:
    """The ASGI application: Slack's events at /slack/events (unless
    `events` is False, in Socket Mode), behind the shared operations routes
    `/health`, `/ready` (JARVICE and the database) and `/metrics`."""
    slack = AsyncSlackRequestHandler(bot.app, path=EVENTS_PATH)

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
    """Open the store (migrating it), build the app and serve until stopped."""
    store = await Store.open(settings.database_url, keys=settings.key_box())
    jarvice = JarviceClient(
        settings.jarvice_api_url,
        timeout=settings.jarvice_timeout,
        transport=MeteredTransport(),
    )
    bot = create_bot(settings, store=store, jarvice=jarvice)
    socket: AsyncSocketModeHandler | None = None
    try:
        await bot.start()
        if settings.socket_mode:
            assert settings.app_token is not None
            socket = AsyncSocketModeHandler(
                bot.app, settings.app_token.get_secret_value()
            )
            await socket.connect_async()  # type: ignore[no-untyped-call]
            logger.info("connected to Slack in Socket Mode")
        config = uvicorn.Config(
            asgi_app(bot, events=not settings.socket_mode),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        mode = "Socket Mode (health only)" if socket else f"HTTP at {EVENTS_PATH}"
        logger.info("serving %s on %s:%d", mode, host, port)
        await uvicorn.Server(config).serve()
    finally:
        if socket is not None:
            await socket.close_async()  # type: ignore[no-untyped-call]
        await bot.stop()
        await jarvice.aclose()
        await store.close()
