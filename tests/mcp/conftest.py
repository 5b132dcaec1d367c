"""Fixtures for the MCP server tests.

One sandbox (manual clock, control surface) serves the whole MCP suite and
is reset before each test that uses it. Servers are built in-process and
driven through the SDK's own `Client`, in both protocol eras.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from jarvice_tools.sandbox import SandboxServer
from tests.mcp.mcp_harness import ERAS, Harness


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(clock="manual", control=True) as server:
        yield server


@pytest.fixture
def sandbox(shared_sandbox: SandboxServer) -> SandboxServer:
    """The shared sandbox, back to its seeded state."""
    shared_sandbox.reset()
    return shared_sandbox


@pytest.fixture(params=list(ERAS))
def era(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def harness(sandbox: SandboxServer) -> AsyncIterator[Harness]:
    built = Harness(sandbox)
    yield built
    for client in built.clients:
        await client.aclose()
