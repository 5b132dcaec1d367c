"""Clients of the real tool layer against a live sandbox, one per role."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from jarvice_tools import Caller, Credentials, JarviceClient, RetryPolicy
from jarvice_tools.sandbox import SandboxServer


def caller_for(sandbox: SandboxServer, username: str, *, admin: bool = False) -> Caller:
    account = sandbox.account(username)
    credentials = Credentials(username=account.username, apikey=account.apikey)
    return Caller(credentials=credentials, admin=admin)


@pytest.fixture
async def jarvice(sandbox: SandboxServer) -> AsyncIterator[JarviceClient]:
    """A client acting as alice, with fast retries."""
    retry = RetryPolicy(attempts=3, base=0.01, cap=0.05)
    async with JarviceClient(
        sandbox.url, caller=caller_for(sandbox, "alice"), retry=retry, timeout=5.0
    ) as client:
        yield client
