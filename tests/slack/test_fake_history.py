"""The fake Slack's channel history pages like Slack: cursors, newest first
in history, oldest first (parent first) in replies, `oldest` exclusive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from slack_bot.testing import ChannelHistory, FakeSlack

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def history() -> Iterator[ChannelHistory]:
    with FakeSlack() as fake:
        kept = ChannelHistory(fake)
        kept.add("C1", {"ts": "100.000000", "text": "root"})
        for n in range(1, 6):
            kept.add("C1", {"ts": f"{100 + n}.000000", "text": f"top {n}"})
            reply = {"ts": f"{100 + n}.500000", "text": f"reply {n}"}
            kept.add("C1", {**reply, "thread_ts": "100.000000"})
        yield kept


async def pages(method: str, history: ChannelHistory, **args: Any) -> list[list[str]]:
    client = AsyncWebClient(token="xoxb-test", base_url=history.fake.api_url)
    found: list[list[str]] = []
    cursor: dict[str, str] = {}
    while True:
        page = await client.api_call(method, params={**args, **cursor})
        found.append([m["text"] for m in page["messages"]])
        if not page["has_more"]:
            assert page["response_metadata"]["next_cursor"] == ""
            return found
        cursor = {"cursor": page["response_metadata"]["next_cursor"]}


async def test_history_pages_newest_first_from_oldest_on(
    history: ChannelHistory,
) -> None:
    read = await pages("conversations.history", history, channel="C1", limit=2)
    assert read == [["top 5", "top 4"], ["top 3", "top 2"], ["top 1", "root"]]
    newer = await pages(
        "conversations.history", history, channel="C1", oldest="103.000000"
    )
    assert newer == [["top 5", "top 4"]]


async def test_replies_page_oldest_first_with_the_parent_on_the_first_page(
    history: ChannelHistory,
) -> None:
    thread = {"channel": "C1", "ts": "100.000000"}
    read = await pages("conversations.replies", history, **thread, limit=3)
    assert read == [["root", "reply 1", "reply 2"], ["reply 3", "reply 4", "reply 5"]]
    newer = await pages("conversations.replies", history, **thread, oldest="104")
    assert newer == [["root", "reply 4", "reply 5"]]
