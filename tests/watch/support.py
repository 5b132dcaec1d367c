"""Helpers for driving the watcher against the sandbox."""

from __future__ import annotations

from collections import Counter

from jarvice_tools import Caller, Credentials, JarviceClient
from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.watch import Cycle, EventKind


def caller_for(sandbox: SandboxServer, username: str) -> Caller:
    account = sandbox.account(username)
    return Caller(credentials=Credentials(username=username, apikey=account.apikey))


async def submit(
    client: JarviceClient, sandbox: SandboxServer, username: str, script: str
) -> int:
    """Submit a batch job as `username` and forget the call in the request log."""
    result = await client.for_caller(caller_for(sandbox, username)).batch(
        {
            "container": {"image": "library/ubuntu:jammy", "jobscript": script},
            "machine": {"type": "n0", "nodes": 1},
        }
    )
    sandbox.clear_requests()
    return result.number


def calls(sandbox: SandboxServer) -> Counter[str]:
    """The /jarvice endpoints the sandbox received since the last clear; a
    read of a completed list counts as e.g. `jobs completed`."""
    return Counter(
        f"{r.endpoint} completed" if r.params.get("completed") == "true" else r.endpoint
        for r in sandbox.requests
    )


def kinds(cycle: Cycle) -> list[tuple[EventKind, int, str]]:
    return [(event.kind, event.number, event.status) for event in cycle.events]
