"""Helpers for the MCP server tests: a harness that builds servers acting
for sandbox users, and small readers of results and sandbox requests."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mcp import Client
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult, TextContent

from jarvice_tools.client import JarviceClient
from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.settings import Caller, Credentials
from mcp_server.config import ServerConfig
from mcp_server.confirm import ConfirmationTokens
from mcp_server.identity import Identities, Principal
from mcp_server.runtime import Runtime
from mcp_server.server import JarviceMCPServer, build_server

ERAS = {"modern": "auto", "legacy": "legacy"}
"""Protocol eras: 2026-07-28 (the SDK client's default) and 2025-11-25."""

Elicitor = Callable[[Any, ElicitRequestParams], Awaitable[ElicitResult]]


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Harness:
    """Builds servers acting for sandbox users, and connects clients."""

    sandbox: SandboxServer
    clients: list[JarviceClient] = field(default_factory=list)
    clock: FakeClock = field(default_factory=FakeClock)

    def caller(self, username: str, *, admin: bool | None = None) -> Caller:
        account = self.sandbox.account(username)
        if admin is None:
            admin = account.role == "system_admin"
        credentials = Credentials(username=username, apikey=account.apikey)
        return Caller(credentials=credentials, admin=admin)

    def runtime(
        self,
        user: str | None = "alice",
        *,
        identities: Identities | None = None,
        **config: Any,
    ) -> Runtime:
        settings = ServerConfig(**{"poll_interval": 0.02, **config})
        if identities is None:
            caller = self.caller(user) if user else None
            principal = Principal(f"stdio:{user}" if user else "stdio", caller)
            identities = Identities(default=principal)
        default = identities.default
        client = JarviceClient(
            self.sandbox.url, caller=default.caller if default else None
        )
        self.clients.append(client)
        tokens = ConfirmationTokens(ttl=settings.confirm_token_ttl, clock=self.clock)
        return Runtime(
            config=settings,
            identities=identities,
            client_or_factory=client,
            tokens=tokens,
        )

    def server(self, user: str | None = "alice", **config: Any) -> JarviceMCPServer:
        return build_server(self.runtime(user, **config))


def connect(
    server: JarviceMCPServer, era: str, elicit: Elicitor | None = None
) -> Client:
    return Client(server, mode=ERAS[era], elicitation_callback=elicit)


def text_of(result: CallToolResult) -> str:
    return "\n".join(
        block.text for block in result.content if isinstance(block, TextContent)
    )


FRAME = re.compile(r"<<<(BEGIN|END) UNTRUSTED JARVICE TEXT ([0-9a-f]{8})>>>")


def framed(text: str) -> list[str]:
    """The untrusted blocks in `text`, each checked to open and close with
    the same code."""
    bodies = []
    markers = list(FRAME.finditer(text))
    assert len(markers) % 2 == 0, text
    for begin, end in zip(markers[::2], markers[1::2], strict=True):
        assert (begin[1], end[1]) == ("BEGIN", "END"), text
        assert begin[2] == end[2], text
        bodies.append(text[begin.end() : end.start()].strip("\n"))
    return bodies


def endpoints(sandbox: SandboxServer) -> list[str]:
    """The /jarvice/* endpoints the sandbox received, in order."""
    return [request.endpoint.rsplit("/", 1)[-1] for request in sandbox.requests]


def job_numbers(sandbox: SandboxServer, username: str) -> dict[str, int]:
    """A user's seeded jobs by status."""
    return {job.status: job.number for job in sandbox.jobs_of(username)}


async def running_job(
    harness: Harness, username: str = "alice", running_for: float = 5.0
) -> int:
    """Submit a long batch job for `username` and bring it to running for
    `running_for` seconds (at most 40)."""
    client = JarviceClient(harness.sandbox.url, caller=harness.caller(username))
    harness.clients.append(client)
    submission = {
        "container": {"image": "library/ubuntu:jammy", "jobscript": "sleep 40"},
        "machine": {"type": "n0", "nodes": 1},
    }
    job = await client.batch(submission)
    harness.sandbox.advance(5 + running_for)
    harness.sandbox.clear_requests()
    return job.number
