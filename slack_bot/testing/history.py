"""Channel history for the fake Slack: what is posted is kept, per channel,
and read back by conversations.history and conversations.replies paginated
as Slack does it.

    history = ChannelHistory(fake)
    ...
    history.texts("C123")              # what the channel shows, oldest first
    history.lose_answers(1)            # the next post lands, its answer is lost
    history.refuse("C123", "not_in_channel")

Reading back follows Slack's rules: `limit` messages a page (100 by default
for history, 1,000 for replies), `has_more` and
`response_metadata.next_cursor` for the next page, `oldest` and `latest`
(exclusive unless `inclusive`), the newest first in history (top-level
messages only) and the oldest first in replies, whose first page starts with
the thread's parent message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from slack_bot.testing.fake_slack import FakeSlack

__all__ = ["ChannelHistory"]

HISTORY_LIMIT = 100
REPLIES_LIMIT = 1000
MAX_LIMIT = 1000


class ChannelHistory:
    """Makes a fake Slack keep what is posted: messages (with metadata) per
    channel, answerable by conversations.history and .replies.

    `lose_answers(n)` makes the next n posts reach the channel while the
    connection drops before the answer, as a network failure would;
    `refuse(channel, error)` makes every post to one channel fail with an
    `ok: false` error (the bot removed from it, say). A post to a user id
    (`U...`) lands in their direct-message channel, `D` + the id.
    """

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.lock = threading.Lock()
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self._lost = 0
        self.refusals: dict[str, str] = {}
        fake.handlers["chat.postMessage"] = self._post
        fake.handlers["chat.update"] = self._update
        fake.handlers["conversations.history"] = self._history
        fake.handlers["conversations.replies"] = self._replies

    def lose_answers(self, times: int = 1) -> None:
        with self.lock:
            self._lost += times

    def refuse(self, channel: str, error: str) -> None:
        with self.lock:
            self.refusals[channel] = error

    def add(self, channel: str, message: dict[str, Any]) -> None:
        """Put a message in a channel as if someone had posted it (it needs
        a `ts`, and a `thread_ts` to be a reply)."""
        with self.lock:
            self.messages.setdefault(channel, []).append(message)

    # Reading what was posted (for assertions).

    def in_channel(self, channel: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.messages.get(channel, []))

    def texts(self, channel: str) -> list[str]:
        return [str(m.get("text")) for m in self.in_channel(channel)]

    def all(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(c, m) for c, ms in self.messages.items() for m in ms]

    # The Web API methods.

    def _post(self, fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel", ""))
        if channel.startswith("U"):
            channel = f"D{channel}"
        if channel in self.refusals:
            return {"ok": False, "error": self.refusals[channel]}
        ts = f"{time.time():.0f}.{fake.next_id('')}"
        message = {"ts": ts, **{k: v for k, v in body.items() if k != "channel"}}
        with self.lock:
            self.messages.setdefault(channel, []).append(message)
            lost = self._lost > 0
            self._lost -= lost
        if lost:
            raise ConnectionAbortedError("the answer is lost on the way back")
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(body.get("channel")), str(body.get("ts"))
        with self.lock:
            for message in self.messages.get(channel, []):
                if message["ts"] == ts:
                    message.update(
                        {k: v for k, v in body.items() if k not in ("channel", "ts")}
                    )
                    return {"ok": True, "channel": channel, "ts": ts}
        return {"ok": False, "error": "message_not_found"}

    def _history(self, fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel"))
        with self.lock:
            found = [
                m
                for m in self.messages.get(channel, [])
                if "thread_ts" not in m and _within(m, body)
            ]
        found.sort(key=_ts, reverse=True)
        return _page(found, body, HISTORY_LIMIT)

    def _replies(self, fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(body.get("channel")), str(body.get("ts"))
        with self.lock:
            kept = self.messages.get(channel, [])
            parent = [m for m in kept if m["ts"] == ts]
            replies = [m for m in kept if m.get("thread_ts") == ts and _within(m, body)]
        if not parent:
            return {"ok": False, "error": "thread_not_found"}
        replies.sort(key=_ts)
        return _page(parent + replies, body, REPLIES_LIMIT)


def _ts(message: dict[str, Any]) -> float:
    return float(message["ts"])


def _within(message: dict[str, Any], body: dict[str, Any]) -> bool:
    """Between `oldest` and `latest`, which count only with `inclusive`."""
    at = _ts(message)
    oldest = float(body.get("oldest") or 0)
    latest = float(body.get("latest") or "inf")
    if str(body.get("inclusive", "")).lower() in ("1", "true"):
        return oldest <= at <= latest
    return oldest < at < latest


def _page(
    messages: Sequence[dict[str, Any]], body: dict[str, Any], default: int
) -> dict[str, Any]:
    """One page of `messages` from the request's cursor, with Slack's
    `has_more` and `response_metadata.next_cursor`."""
    limit = min(MAX_LIMIT, int(body.get("limit") or default))
    cursor = str(body.get("cursor") or "")
    start = int(cursor.removeprefix("page:")) if cursor.startswith("page:") else 0
    end = start + limit
    more = end < len(messages)
    return {
        "ok": True,
        "messages": list(messages[start:end]),
        "has_more": more,
        "response_metadata": {"next_cursor": f"page:{end}" if more else ""},
    }
