"""Helpers for the alert tests: a manual clock and ways to drive the alert
service step by step (channel history on the fake Slack is
`slack_bot.testing.ChannelHistory`, re-exported here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jarvice_tools import JarviceClient
from jarvice_tools.sandbox import SandboxServer
from slack_bot.alerts import AlertService
from slack_bot.testing import ChannelHistory
from tests.watch.support import submit

__all__ = [
    "USERS",
    "ChannelHistory",
    "ManualClock",
    "a_start_announced",
    "block_texts",
    "buttons",
    "drain",
]

USERS = {"alice": "UALICE", "bob": "UBOB", "carol": "UCAROL", "dave": "UDAVE"}
"""Slack user id of each sandbox account linked in these tests."""


@dataclass
class ManualClock:
    """A UTC clock that moves only when told (for leases and retries)."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


async def a_start_announced(
    service: AlertService, sandbox: SandboxServer, jarvice: JarviceClient
) -> int:
    """Take alice's baseline, submit a long job and poll until a channel
    with `starts=on` has been told it started; the job's number."""
    await service.poll_once()
    number = await submit(jarvice, sandbox, "alice", "sleep 1000")
    await service.poll_once()
    sandbox.advance(10)
    await service.poll_once()
    await drain(service)
    return number


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
