"""Fixtures for the watcher tests: a client that does not retry by itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from jarvice_tools import JarviceClient, RetryPolicy
from jarvice_tools.sandbox import SandboxServer


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[JarviceClient]:
    retry = RetryPolicy(attempts=1)
    async with JarviceClient(sandbox.url, retry=retry, timeout=10) as jarvice:
        yield jarvice
