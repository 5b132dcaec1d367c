"""Building the Slack app: Bolt's `AsyncApp` with the `/jarvice` listeners.

`create_bot(settings, store=..., jarvice=...)` gives a `SlackBot` whose
`app` serves HTTP (see `slack_bot.server`) or Socket Mode. Listeners:

- `/jarvice` -> the command router (`slack_bot.router`);
- buttons: Confirm / Cancel on confirm cards, and `jarvice_run:<command>`
  buttons that run a read-only command for whoever clicks;
- form submissions: login, batch, submit.

Requests pass Bolt's signature check (HTTP mode), then a replay check
against the store, before any listener runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from jarvice_tools.client import JarviceClient
from jarvice_tools.redact import install_log_redaction
from slack_bot import confirm, forms, messages, render
from slack_bot.actions import register_actions
from slack_bot.bot import EXTENSIONS, SlackBot, load_extensions
from slack_bot.commands import register_builtins
from slack_bot.router import CommandContext, Reply
from slack_bot.settings import SlackSettings
from slack_bot.store import Store

__all__ = ["create_bot", "slack_client"]

logger = logging.getLogger("slack_bot")
install_log_redaction("slack_bot", "slack_bolt", "slack_sdk")

COMMAND = "/jarvice"
_RUN_BUTTONS = re.compile(rf"^{render.RUN_ACTION_ID}(:.*)?$", re.DOTALL)
"""Run buttons: `jarvice_run:<command>`, and plain `jarvice_run` on messages
posted before action_ids were made unique."""


def slack_client(settings: SlackSettings) -> AsyncWebClient:
    """The Web API client: the bot token, SLACK_API_URL, and retries on
    rate limits (honouring Retry-After), server errors and connection
    errors."""
    return AsyncWebClient(
        token=settings.bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=30,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_bot(
    settings: SlackSettings,
    *,
    store: Store,
    jarvice: JarviceClient,
    client: AsyncWebClient | None = None,
    extensions: Iterable[str] = EXTENSIONS,
) -> SlackBot:
    """The Slack app, its listeners registered and its extensions set up."""
    secret = (
        settings.signing_secret.get_secret_value() if settings.signing_secret else ""
    )
    app = AsyncApp(
        client=client or slack_client(settings),
        signing_secret=secret,
        request_verification_enabled=not settings.socket_mode,
        before_authorize=_replay_guard(store),
        logger=logging.getLogger("slack_bot.bolt"),
        name="jarvice-slack",
    )
    bot = SlackBot(settings=settings, store=store, jarvice=jarvice, app=app)
    register_builtins(bot)
    register_actions(bot)
    _listen(bot)
    load_extensions(bot, extensions)
    return bot


def _listen(bot: SlackBot) -> None:
    app = bot.app
    app.command(COMMAND)(bot.router.handle_command)

    async def on_confirm(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await confirm.on_click(bot, ack, body, respond, yes=True)

    async def on_cancel(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await confirm.on_click(bot, ack, body, respond, yes=False)

    async def on_run(
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        await _run_button(bot, body, respond, client)

    app.action(confirm.CONFIRM_ACTION_ID)(on_confirm)
    app.action(confirm.CANCEL_ACTION_ID)(on_cancel)
    app.action(_RUN_BUTTONS)(on_run)

    views: dict[
        str, Callable[[SlackBot, AsyncAck, dict[str, Any]], Awaitable[None]]
    ] = {
        forms.LOGIN_CALLBACK: forms.on_login_submission,
        forms.BATCH_CALLBACK: forms.on_batch_submission,
        forms.SUBMIT_CALLBACK: forms.on_submit_submission,
    }
    for callback_id, handler in views.items():
        app.view(callback_id)(_view_listener(bot, handler))

    async def on_view_closed(ack: AsyncAck) -> None:
        await ack()

    app.view_closed(re.compile("^jarvice_"))(on_view_closed)

    async def on_error(error: Exception) -> None:
        logger.error("a listener failed: %s: %s", type(error).__name__, error)

    app.error(on_error)


def _view_listener(
    bot: SlackBot,
    handler: Callable[[SlackBot, AsyncAck, dict[str, Any]], Awaitable[None]],
) -> Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]:
    async def on_view(ack: AsyncAck, body: dict[str, Any]) -> None:
        await handler(bot, ack, body)

    return on_view


async def _run_button(
    bot: SlackBot,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    """A run button: its value runs as `/jarvice <value>` for the person who
    clicked, with their own credentials, if it is a read. Every click is
    audited, including those answered at once (help, an unknown value)."""
    text = str(((body.get("actions") or [{}])[0]).get("value", ""))
    plan = bot.router.plan(text)
    user_id = str((body.get("user") or {}).get("id", ""))
    team_id = (body.get("team") or {}).get("id")
    channel_id = (body.get("channel") or {}).get("id")
    early = plan.early
    if early is None and (plan.subcommand is None or not plan.subcommand.button):
        early = Reply(messages.BUTTON_READS_ONLY, outcome="refused")
    if early is not None:
        await bot.send(respond, early)
        await bot.router.record_early(
            plan,
            early,
            kind="click",
            user_id=user_id,
            team_id=team_id,
            channel_id=channel_id,
        )
        return
    assert plan.subcommand is not None
    ctx = CommandContext(
        bot=bot,
        subcommand=plan.subcommand,
        text=plan.text,
        user_id=user_id,
        team_id=team_id,
        channel_id=channel_id,
        trigger_id=body.get("trigger_id"),
        response_url=body.get("response_url"),
        respond=respond,
        client=client,
        prepared=plan.prepared,
        audit_arguments=plan.arguments,
    )
    await bot.router.run(ctx, kind="click")


def _replay_guard(
    store: Store,
) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Middleware: refuse a signed request seen before (a replay)."""

    async def refuse_replays(
        req: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        if req.mode == "socket_mode":
            return await next()
        timestamp = _header(req, "x-slack-request-timestamp")
        signature = _header(req, "x-slack-signature")
        if not await store.replays.first_sighting(timestamp, signature):
            logger.warning("refused a replayed request (timestamp %s)", timestamp)
            return BoltResponse(status=401, body='{"error":"replayed request"}')
        return await next()

    return refuse_replays


def _header(req: AsyncBoltRequest, name: str) -> str:
    values = req.headers.get(name) or [""]
    return str(values[0])
