"""Helpers for the alert tests: channel history on the fake Slack, a manual
clock, and ways to drive the alert service step by step."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

from slack_bot.alerts import AlertService
from slack_bot.testing import FakeSlack

USERS = {"alice": "UALICE", "bob": "UBOB", "carol": "UCAROL", "dave": "UDAVE"}
"""Slack user id of each sandbox account linked in these tests."""


class ChannelHistory:
    """Makes the fake Slack keep what is posted: messages (with metadata)
    per channel, answerable by conversations.history and .replies.

    `lose_answers(n)` makes the next n posts reach the channel while the
    connection drops before the answer, as a network failure would;
    `refuse(channel, error)` makes every post to one channel fail with an
    `ok: false` error (the bot removed from it, say).
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
        oldest = float(body.get("oldest") or 0)
        with self.lock:
            found = [
                m
                for m in self.messages.get(channel, [])
                if "thread_ts" not in m and float(m["ts"]) >= oldest
            ]
        return {"ok": True, "messages": list(reversed(found)), "has_more": False}

    def _replies(self, fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(body.get("channel")), str(body.get("ts"))
        with self.lock:
            found = [
                m
                for m in self.messages.get(channel, [])
                if m["ts"] == ts or m.get("thread_ts") == ts
            ]
        return {"ok": True, "messages": found, "has_more": False}

    def in_channel(self, channel: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.messages.get(channel, []))

    def texts(self, channel: str) -> list[str]:
        return [str(m.get("text")) for m in self.in_channel(channel)]

    def all(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(c, m) for c, ms in self.messages.items() for m in ms]


@dataclass
class ManualClock:
    """A UTC clock that moves only when told (for leases and retries)."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


async def drain(service: AlertService, *, rounds: int = 50) -> None:
    """Let the sender work until nothing it may send is due."""
    for _ in range(rounds):
        grace = service.settings.sending_grace
        rows = await service.outbox.due(service.sender.clock(), grace=grace)
        if not rows:
            return
        await service.sender.send_due()
    raise AssertionError("the outbox did not drain")


def block_texts(message: dict[str, Any]) -> str:
    """All the text in a message's blocks, for assertions."""
    parts: list[str] = []
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text")))
        for item in block.get("fields") or []:
            parts.append(str(item.get("text")))
        for item in block.get("elements") or []:
            if isinstance(item.get("text"), str):
                parts.append(item["text"])
            elif isinstance(item.get("text"), dict):
                parts.append(str(item["text"].get("text")))
    return "\n".join(parts)


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for block in message.get("blocks") or []:
        for item in block.get("elements") or []:
            if item.get("type") == "button":
                found.append((item["action_id"], item["value"]))
    return found
