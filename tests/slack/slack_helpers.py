"""Constants and helpers shared by the Slack app's tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pydantic import SecretStr
from slack_bolt.response import BoltResponse

from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.settings import Credentials
from slack_bot.bot import SlackBot
from slack_bot.testing import SignedRequest, message_problems, view_problems

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN = "UADMIN01"
ALICE = "UALICE01"
BOB = "UBOB0001"
STRANGER = "USTRANGE"

BotFactory = Callable[..., Awaitable[SlackBot]]


async def link(
    bot: SlackBot, sandbox: SandboxServer, slack_user: str, name: str
) -> str:
    """Link a Slack user to a sandbox account; returns the API key."""
    account = sandbox.account(name)
    await bot.store.links.save(
        slack_user,
        Credentials(username=account.username, apikey=SecretStr(account.apikey)),
    )
    return str(account.apikey)


async def dispatch(bot: SlackBot, request: SignedRequest) -> BoltResponse:
    """Dispatch in-process; the listener tasks Bolt leaves running after the
    ack are remembered for `settle()`. An ack carrying blocks or a view that
    Slack would refuse fails the test, as the fake does for Web API calls."""
    before = asyncio.all_tasks()
    response = await bot.app.async_dispatch(request.bolt())
    _LISTENERS.update(asyncio.all_tasks() - before)
    assert not ack_problems(response), ack_problems(response)
    return response


def ack_problems(response: BoltResponse) -> list[str]:
    """What Slack would refuse in an ack's blocks or view ([] if nothing)."""
    try:
        body = json.loads(response.body or "null")
    except json.JSONDecodeError:
        return []
    if not isinstance(body, dict):
        return []
    if body.get("response_action") in ("update", "push"):
        return view_problems(body.get("view"))
    return message_problems(body.get("blocks"))


def jarvice_paths(sandbox: SandboxServer) -> list[str]:
    """The /jarvice/... endpoints the sandbox received, in order."""
    return [request.endpoint for request in sandbox.requests]


_LISTENERS: set[asyncio.Task[Any]] = set()


async def settle(within: float = 10.0) -> None:
    """Wait for the work listeners do after their ack (answers, audit)."""
    pending = {task for task in _LISTENERS if not task.done()}
    _LISTENERS.clear()
    if pending:
        await asyncio.wait(pending, timeout=within)


def running_job(sandbox: SandboxServer, user: str, *, nodes: int = 2) -> int:
    """A job of `user` that is running now (submitted straight to the sandbox)."""
    account = sandbox.account(user)
    body = {
        "container": {"image": "library/ubuntu:jammy", "jobscript": "sleep 60"},
        "machine": {"type": "n3", "nodes": nodes},
        "user": {"username": user, "apikey": account.apikey},
    }
    answer = httpx.post(f"{sandbox.url}/jarvice/batch", json=body, timeout=10)
    answer.raise_for_status()
    number = int(answer.json()["number"])
    sandbox.set_status(number, "PROCESSING STARTING")
    sandbox.clear_requests()
    return number
