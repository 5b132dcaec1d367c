"""Replay the recorded tour of all 28 endpoints through the client, and make
sure no recording anywhere holds an API key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jarvice_tools import ACTIONS, JarviceClient
from jarvice_tools.sandbox import SandboxServer
from tests.contract.cassettes import CASSETTES, PLACEHOLDER, recorder
from tests.contract.record import CASSETTE, OUTCOMES, caller
from tests.contract.tour import TourPlan, tour

pytestmark = pytest.mark.anyio

REPLAY_KEY = "feedfacefeedfacefeedfacefeedfacefeedface"


async def no_wait(seconds: float) -> None:
    """Replay needs no waiting: the recorded polls come back in order."""


async def test_the_tour_replays_to_the_recorded_outcomes() -> None:
    expected = json.loads((CASSETTES / OUTCOMES).read_text())

    async with JarviceClient(
        "http://recorded.invalid", caller=caller("alice", REPLAY_KEY)
    ) as jarvice:
        admin = jarvice.for_caller(caller("admin", REPLAY_KEY, admin=True))
        with recorder(record=False).use_cassette(CASSETTE) as cassette:
            results = await tour(jarvice, admin, no_wait, TourPlan())

    assert results == expected
    assert cassette.all_played


def test_the_cassette_covers_every_endpoint() -> None:
    recorded = (CASSETTES / CASSETTE).read_text()
    paths = set(re.findall(r"uri: \S+?(/jarvice/\w+)", recorded))

    assert paths == {action.path for action in ACTIONS.values()}


def secrets_in(text: str, keys: list[str]) -> list[str]:
    found = [key for key in keys if key in text]
    pattern = r"(?i)apikey[\"']?\s*[=:]\s*[\"']?([^&\"'\s,}]+)"
    found += [
        value
        for value in re.findall(pattern, text)
        if value not in (PLACEHOLDER, "%3CAPIKEY%3E")
    ]
    return found


def test_no_cassette_holds_an_api_key() -> None:
    with SandboxServer() as sandbox:
        keys = [account.apikey for account in sandbox.accounts]
    files = [path for path in Path(CASSETTES).rglob("*") if path.is_file()]

    assert files
    for path in files:
        assert secrets_in(path.read_text(errors="replace"), keys) == [], path


def test_the_secret_scan_would_catch_a_leak() -> None:
    leaked = "body: username=alice&apikey=9d8c540069fead1b0661aa508d9b79f7ba340408"

    assert secrets_in(leaked, []) == ["9d8c540069fead1b0661aa508d9b79f7ba340408"]
