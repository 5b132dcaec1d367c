"""Fixtures for the tool layer's unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from jarvice_tools import Caller, Credentials, JarviceClient, RetryPolicy
from tests.toollayer.support import API_URL, APIKEY, ScriptedTransport


@pytest.fixture
def caller() -> Caller:
    return Caller(credentials=Credentials(username="alice", apikey=APIKEY))


@pytest.fixture
def script() -> ScriptedTransport:
    return ScriptedTransport()


@pytest.fixture
async def client(
    script: ScriptedTransport, caller: Caller
) -> AsyncIterator[JarviceClient]:
    transport = httpx.MockTransport(script.handle)
    retry = RetryPolicy(attempts=3, base=0.0, cap=0.0)
    async with JarviceClient(
        API_URL, caller=caller, transport=transport, retry=retry
    ) as jarvice:
        yield jarvice


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
