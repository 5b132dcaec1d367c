"""Socket Mode: the outbound WebSocket to Slack, opened beside the HTTP routes.

`jarvice-slack` serves `/health`, `/ready` and `/metrics` at once and
connects to Slack in the background, so a probe sees a live process while
Slack is still being reached. `/ready` reports the connection (`slack`).
The app-level token is checked first, with one `apps.connections.open`:
when Slack refuses it (revoked, wrong kind, missing scope) the app stops
with one sentence instead of retrying forever. Any other failure (Slack
unreachable, a server error) is left to the SDK, which keeps reconnecting.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError

from slack_bot import messages
from slack_bot.bot import SlackBot

__all__ = ["REFUSED_TOKEN_ERRORS", "SocketLink", "SocketModeRefused"]

logger = logging.getLogger("slack_bot")

# What apps.connections.open answers for a token that will never work.
REFUSED_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "missing_scope",
        "no_permission",
    }
)


class SocketModeRefused(Exception):
    """Slack refused the app-level token (SLACK_APP_TOKEN)."""


class SocketLink:
    """One Socket Mode connection for the bot's app."""

    def __init__(self, bot: SlackBot, app_token: str) -> None:
        self._token = app_token
        self._client = bot.app.client
        self._handler = AsyncSocketModeHandler(bot.app, app_token)

    async def connect(self) -> None:
        """Check the token, then connect (the SDK retries until it can)."""
        await self._check_token()
        await self._handler.connect_async()  # type: ignore[no-untyped-call]
        logger.info("connected to Slack in Socket Mode")

    async def connected(self) -> bool:
        """Readiness: the WebSocket is open and answers pings."""
        return bool(await self._handler.client.is_connected())

    async def close(self) -> None:
        await self._handler.close_async()  # type: ignore[no-untyped-call]

    async def _check_token(self) -> None:
        try:
            await self._client.apps_connections_open(app_token=self._token)
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if code in REFUSED_TOKEN_ERRORS:
                raise SocketModeRefused(messages.socket_mode_refused(code)) from None
            logger.warning("Slack did not open a Socket Mode connection: %s", code)
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
            logger.warning("Slack is unreachable so far: %s", type(error).__name__)
