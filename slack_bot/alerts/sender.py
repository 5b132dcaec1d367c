"""The sender: empties the outbox into Slack, paced, retried, never twice.

- Pacing: at most one call per channel every `pace_seconds` (Slack allows
  about one message per second per channel); channels proceed in parallel,
  and a channel waiting for its turn does not hide the others' messages.
- Bursts: when `burst` or more alerts wait for one channel at once, one
  summary message is posted and the alerts go into its thread.
- Retries: a 429 waits for Slack's `Retry-After`; a 5xx, a network error or
  any error Slack does not name as a refusal of the message itself
  (`PERMANENT`) waits longer after each failure (capped), and because the
  message may have been posted anyway, the next attempt first looks for it
  in the channel (by the metadata key it carries, following Slack's cursor
  through up to `SEARCH_PAGES` pages of what was posted since the message
  was queued) and only posts if it is absent. A broken token or missing
  scope (`AUTH_BROKEN`) holds the messages until it is fixed.
- A channel the bot was removed from (`not_in_channel`,
  `channel_not_found`, `is_archived`) is not retried: its queued messages
  are dropped and `on_channel_gone`, told which alerts were dropped, turns
  off its subscriptions and tells an administrator and the people who set
  them up.
- A row another sender left in `sending` (a crash) is picked up after a
  grace period with the same look-before-posting check.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import anyio
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from jarvice_tools.metrics import record_alert, set_outbox_depth
from slack_bot.alerts import messages
from slack_bot.alerts.config import AlertSettings
from slack_bot.alerts.lease import Lease
from slack_bot.alerts.ledger import facts_from
from slack_bot.alerts.outbox import (
    METADATA_EVENT,
    Dropped,
    Kind,
    Message,
    Outbox,
    State,
)
from slack_bot.store import utcnow

__all__ = ["CHANNEL_GONE", "Sender"]

logger = logging.getLogger("slack_bot.alerts")

CHANNEL_GONE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
AUTH_BROKEN = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
    }
)
"""The bot's token or its scopes: alerts are held until an admin fixes it."""
PERMANENT = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_attachments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "invalid_json",
        "json_not_object",
        "as_user_not_supported",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "ekm_access_denied",
        "cant_update_message",
        "edit_window_closed",
        "message_not_found",
        "cannot_dm_bot",
        "user_not_found",
        "user_disabled",
        "messages_tab_disabled",
        "unknown_method",
    }
)
"""Slack's refusals of the message itself: retrying cannot help, so it is
dropped (logged). Any code not listed here is retried."""
UNSEARCHABLE = frozenset({"missing_scope", "not_allowed_token_type"})
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
SEARCH_PAGE_SIZE = 200
SEARCH_PAGES = 10
"""Pages read when looking for an earlier copy of a message: the 2,000
messages posted since it was queued, within twice the Slack timeout."""

ChannelGone = Callable[[str, str, Sequence[Dropped]], Awaitable[None]]


@dataclass(frozen=True)
class _Found:
    channel: str
    ts: str


class Sender:
    """Sends due outbox rows; run it only while holding the poller lease."""

    def __init__(
        self,
        outbox: Outbox,
        client: AsyncWebClient,
        lease: Lease,
        settings: AlertSettings,
        *,
        on_channel_gone: ChannelGone,
        clock: Callable[[], dt.datetime] = utcnow,
        idle: float = 1.0,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.lease = lease
        self.settings = settings
        self.on_channel_gone = on_channel_gone
        self.clock = clock
        self.idle = idle
        self._open_at: dict[str, float] = {}
        self._wake: anyio.Event | None = None
        self._stopped = False
        self.posted = 0

    def wake(self) -> None:
        """New rows were queued: look at the outbox now."""
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        """Finish the call in progress, then return from `run` (and return
        at once from any later `run` until `resume`)."""
        self._stopped = True
        self.wake()

    def resume(self) -> None:
        """Allow `run` again after a `stop`."""
        self._stopped = False

    async def run(self) -> None:
        """Send until stopped (or until the lease is lost: `LeaseLost`)."""
        self._wake = anyio.Event()
        while not self._stopped:
            try:
                delay = await self.send_due()
            except (sa.exc.SQLAlchemyError, OSError):
                logger.exception("the outbox could not be read; trying again")
                delay = self.idle
            await self._sleep(delay)

    async def _sleep(self, delay: float) -> None:
        wake = self._wake
        if wake is None or self._stopped:
            return
        if delay > 0:
            with anyio.move_on_after(delay):
                await wake.wait()
        if wake.is_set() and not self._stopped:
            self._wake = anyio.Event()

    async def send_due(self) -> float:
        """One pass: send what is due and allowed; seconds until the next.
        The outbox's depth is measured after each pass (a metric)."""
        delay = await self._send_pass()
        set_outbox_depth(await self.outbox.depth())
        return delay

    async def _send_pass(self) -> float:
        grace = self.settings.sending_grace
        now = self.clock().timestamp()
        self._open_at = {c: at for c, at in self._open_at.items() if at > now}
        paced = frozenset(self._open_at)
        rows = await self.outbox.due(self.clock(), grace=grace, skip=paced)
        if rows and await self._summarise(rows):
            rows = await self.outbox.due(self.clock(), grace=grace, skip=paced)
        if not rows:
            waits = [at - now for at in self._open_at.values()]
            return min([self._until_next(await self.outbox.next_due()), *waits])

        batch: dict[str, Message] = {}
        for row in rows:
            batch.setdefault(row.channel, row)
        async with anyio.create_task_group() as group:
            for row in batch.values():
                group.start_soon(self._deliver, row)
        return 0.0

    def _until_next(self, due: dt.datetime | None) -> float:
        if due is None:
            return self.idle
        return max(0.0, min(self.idle, (due - self.clock()).total_seconds()))

    # Bursts.

    async def _summarise(self, rows: Sequence[Message]) -> bool:
        burst = self.settings.burst
        if burst <= 0:
            return False
        waiting: dict[str, list[Message]] = {}
        for row in rows:
            if row.summarisable and row.state is State.PENDING:
                waiting.setdefault(row.channel, []).append(row)
        made = False
        for channel, members in waiting.items():
            if len(members) < burst:
                continue
            args = messages.summary(facts_from([m.facts for m in members]))
            summary = await self.outbox.summarise(channel, members, args, self.lease)
            if summary is not None:
                logger.info(
                    "%d alerts for %s go in the thread of one summary",
                    len(members),
                    channel,
                )
                made = True
        return made

    # One message.

    async def _deliver(self, row: Message) -> None:
        if not self.lease.held():
            return
        now = self.clock()
        if not await self.outbox.claim(
            row, self.lease, now, grace=self.settings.sending_grace
        ):
            return
        channel, thread_ts = row.target()
        try:
            await self._attempt(row, channel, thread_ts)
        finally:
            pace = self.settings.pace_seconds
            opens = max(self._open_at.get(row.channel, 0.0), self.clock().timestamp())
            self._open_at[row.channel] = opens + pace

    async def _attempt(self, row: Message, channel: str, thread_ts: str | None) -> None:
        if row.kind is Kind.UPDATE and row.parent_state is not State.SENT:
            await self.outbox.fail([row.id], error="the message to update was not sent")
            return
        if row.uncertain or row.state is State.SENDING:
            try:
                found = await self._find(row, channel, thread_ts)
            except SlackApiError as error:
                if _code(error) not in UNSEARCHABLE:
                    await self._refused(row, channel, error)
                    return
                logger.warning(
                    "cannot search %s for an earlier copy (%s); posting again",
                    channel,
                    _code(error),
                )
                found = None
            except NETWORK_ERRORS as error:
                await self._later(row, f"{type(error).__name__}", uncertain=True)
                return
            if found is not None:
                logger.info("message %s was already in %s", row.key, found.channel)
                await self.outbox.sent(row, channel=found.channel, ts=found.ts)
                record_alert("sent")
                return
        try:
            response = await self._call(row, channel, thread_ts)
        except SlackApiError as error:
            await self._refused(row, channel, error)
            return
        except NETWORK_ERRORS as error:
            await self._later(row, f"{type(error).__name__}", uncertain=True)
            return
        self.posted += 1
        await self.outbox.sent(
            row,
            channel=str(response.get("channel") or channel),
            ts=str(response.get("ts") or row.parent_ts or ""),
        )
        record_alert("sent")

    async def _call(
        self, row: Message, channel: str, thread_ts: str | None
    ) -> dict[str, Any]:
        args = row.args
        args["metadata"] = {
            "event_type": METADATA_EVENT,
            "event_payload": {"key": row.key},
        }
        if row.kind is Kind.UPDATE:
            args.update(channel=channel, ts=row.parent_ts)
        else:
            args["channel"] = channel
            if thread_ts:
                args["thread_ts"] = thread_ts
            else:
                args.pop("reply_broadcast", None)
        with anyio.fail_after(self.settings.slack_timeout):
            response = await self.client.api_call(row.method, json=args)
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def _find(
        self, row: Message, channel: str, thread_ts: str | None
    ) -> _Found | None:
        """Look in Slack for a message carrying this row's key among those
        posted since the row was queued (less the clock-skew allowance): in
        the thread's replies or the channel's history, page after page."""
        oldest = f"{row.created_at.timestamp() - self.settings.clock_skew:.6f}"
        with anyio.fail_after(self.settings.slack_timeout * 2):
            if channel[:1] in ("U", "W"):
                opened = await self.client.conversations_open(users=channel)
                channel = str(opened["channel"]["id"])
            cursor: str | None = None
            for _ in range(SEARCH_PAGES):
                page = await self._search(channel, thread_ts, oldest, cursor)
                ts = _carrying(page, row.key)
                if ts is not None:
                    return _Found(channel, ts)
                cursor = _next_cursor(page)
                if cursor is None:
                    return None
        logger.warning(
            "message %s is not among %d messages of %s since it was queued; "
            "posting it again",
            row.key,
            SEARCH_PAGES * SEARCH_PAGE_SIZE,
            channel,
        )
        return None

    async def _search(
        self, channel: str, thread_ts: str | None, oldest: str, cursor: str | None
    ) -> AsyncSlackResponse:
        """One page of a thread's replies (oldest first) or of a channel's
        history (newest first), from `oldest` on."""
        page: dict[str, Any] = {
            "channel": channel,
            "oldest": oldest,
            "cursor": cursor,
            "include_all_metadata": True,
            "limit": SEARCH_PAGE_SIZE,
        }
        if thread_ts:
            return await self.client.conversations_replies(ts=thread_ts, **page)
        return await self.client.conversations_history(**page)

    # Failures.

    async def _refused(self, row: Message, channel: str, error: SlackApiError) -> None:
        """Slack answered with an error: wait for a 429, stop for a channel
        the bot left, hold for a broken token, drop a message Slack refuses
        for good; retry anything else (a 5xx, a gateway's page, a code we
        do not know), as Slack may have posted it."""
        status, code = _status(error), _code(error)
        if status == 429 or code in ("ratelimited", "rate_limited"):
            wait = _retry_after(error)
            self._open_at[row.channel] = self.clock().timestamp() + wait
            logger.warning("Slack rate-limited %s; retrying in %.1f s", channel, wait)
            await self._later(row, "ratelimited", uncertain=False, wait=wait)
        elif code in CHANNEL_GONE and row.kind not in (Kind.DM, Kind.NOTICE):
            await self._channel_gone(channel, code)
        elif code in AUTH_BROKEN:
            logger.error(
                "Slack refused the bot's token or scopes (%s); alerts are held", code
            )
            await self._later(row, code, uncertain=False, wait=self.settings.retry_cap)
        elif code in PERMANENT or code in CHANNEL_GONE:
            logger.error("Slack refused message %s for good: %s", row.key, code)
            await self.outbox.fail([row.id], error=code)
            record_alert("failed")
        else:
            said = " ".join(part for part in (f"HTTP {status}", code) if part)
            logger.warning("Slack failed message %s (%s); retrying", row.key, said)
            await self._later(row, said, uncertain=True)

    async def _later(
        self, row: Message, error: str, *, uncertain: bool, wait: float | None = None
    ) -> None:
        now = self.clock()
        age = (now - row.created_at).total_seconds()
        if age > self.settings.give_up_after:
            logger.error("gave up on message %s after %.0f s: %s", row.key, age, error)
            await self.outbox.fail([row.id], error=f"gave up: {error}")
            record_alert("failed")
            return
        if wait is None:
            ceiling = min(self.settings.retry_cap, 2.0 ** max(0, row.attempts))
            wait = random.uniform(ceiling / 2, ceiling)
        at = now + dt.timedelta(seconds=wait)
        await self.outbox.retry(row, at=at, error=error, uncertain=uncertain)
        record_alert("retry")

    async def _channel_gone(self, channel: str, code: str) -> None:
        unsent = await self.outbox.unsent_in(channel)
        dropped = await self.outbox.fail(unsent, error=code)
        for _ in unsent:
            record_alert("failed")
        logger.warning(
            "cannot post to %s (%s); %d messages dropped", channel, code, len(unsent)
        )
        await self.on_channel_gone(channel, code, dropped)


def _carrying(page: AsyncSlackResponse, key: str) -> str | None:
    """The ts of the message on this page that carries `key`, if any."""
    for message in page.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if payload.get("key") == key:
            return str(message["ts"])
    return None


def _next_cursor(page: AsyncSlackResponse) -> str | None:
    if not page.get("has_more"):
        return None
    metadata = page.get("response_metadata") or {}
    return str(metadata.get("next_cursor") or "") or None


def _status(error: SlackApiError) -> int:
    """The HTTP status of a Slack error: `status_code` on a SlackResponse,
    `status` on the aiohttp response of a body that was not JSON."""
    response = error.response
    for name in ("status_code", "status"):
        value = getattr(response, name, None)
        if isinstance(value, int):
            return value
    return 0


def _code(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "")
    return ""


def _retry_after(error: SlackApiError) -> float:
    headers = getattr(error.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
