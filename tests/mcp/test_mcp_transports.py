"""The real transports: `jarvice-mcp` as a stdio subprocess, and stateless
streamable HTTP with bearer tokens, Host checks, /health and /ready."""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestParams, ElicitResult

from mcp_server.app import HttpService
from mcp_server.identity import (
    ConfigurationError,
    Identities,
    Principal,
    token_digest,
)
from mcp_server.server import build_server
from tests.mcp.mcp_harness import ERAS, Harness, endpoints, running_job, text_of

pytestmark = pytest.mark.anyio

ALICE_TOKEN = "alice-test-token-0123456789"
ADMIN_TOKEN = "admin-test-token-0123456789"


@pytest.mark.parametrize("era", list(ERAS))
async def test_stdio_subprocess_lists_and_calls(era: str) -> None:
    command = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server", "--sandbox", "--log-level", "WARNING"],
    )

    async with Client(command, mode=ERAS[era]) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        jobs = await client.call_tool("jarvice_jobs", {"completed": True})
        terminate = await client.call_tool("jarvice_terminate", {"number": 123006})

    assert "jarvice_terminate" in tools
    assert "jarvice_billing" not in tools
    assert not jobs.is_error, text_of(jobs)
    assert jobs.structured_content
    assert jobs.structured_content["total"] == 3
    assert terminate.is_error
    assert "confirmation_token=" in text_of(terminate)


def identities(harness: Harness) -> Identities:
    return Identities(
        by_digest={
            token_digest(ALICE_TOKEN): Principal(
                "token:alice", harness.caller("alice")
            ),
            token_digest(ADMIN_TOKEN): Principal(
                "token:admin", harness.caller("admin")
            ),
        }
    )


@asynccontextmanager
async def http_server(harness: Harness, **config: Any) -> AsyncIterator[str]:
    """The server over HTTP on a free port; yields its base URL."""
    runtime = harness.runtime(
        identities=identities(harness), transport="http", port=0, **config
    )
    service = HttpService(build_server(runtime), runtime)
    ready = anyio.Event()

    async def on_ready(url: str) -> None:
        ready.set()

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: service.run(on_ready=on_ready))
        with anyio.fail_after(10):
            await ready.wait()
        try:
            yield service.base_url
        finally:
            service.stop()


@asynccontextmanager
async def mcp_client(
    base: str,
    token: str,
    era: str = "modern",
    elicit: Callable[[Any, ElicitRequestParams], Awaitable[ElicitResult]] | None = None,
) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers) as http:
        transport = streamable_http_client(f"{base}/mcp", http_client=http)
        async with Client(
            transport, mode=ERAS[era], elicitation_callback=elicit
        ) as client:
            yield client


async def test_http_refuses_requests_without_a_valid_token(harness: Harness) -> None:
    async with http_server(harness) as base, httpx.AsyncClient() as http:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        missing = await http.post(f"{base}/mcp", json=body)
        wrong = await http.post(
            f"{base}/mcp", json=body, headers={"Authorization": "Bearer nope"}
        )
        health = await http.get(f"{base}/health")
        ready = await http.get(f"{base}/ready")

    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert health.json() == {"status": "ok"}
    assert ready.json() == {"ready": True, "checks": {"jarvice": True}}
    assert endpoints(harness.sandbox) == ["ready"]


async def test_http_acts_for_the_token_user(harness: Harness, era: str) -> None:
    async with http_server(harness) as base:
        async with mcp_client(base, ALICE_TOKEN, era) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            jobs = await client.call_tool("jarvice_jobs", {"completed": True})
            refused = await client.call_tool("jarvice_projects", {})
        async with mcp_client(base, ADMIN_TOKEN, era) as client:
            admin_tools = {tool.name for tool in (await client.list_tools()).tools}
            projects = await client.call_tool("jarvice_projects", {})

    assert "jarvice_projects" not in tools
    assert "jarvice_projects" in admin_tools
    assert not jobs.is_error, text_of(jobs)
    assert {r.username for r in harness.sandbox.requests} == {"alice", "admin"}
    assert refused.is_error
    assert "administrator action" in text_of(refused)
    assert not projects.is_error, text_of(projects)
    assert endpoints(harness.sandbox).count("projects") == 1


async def test_http_rejects_a_foreign_host_header(harness: Harness) -> None:
    async with http_server(harness) as base, httpx.AsyncClient() as http:
        response = await http.post(
            f"{base}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Authorization": f"Bearer {ALICE_TOKEN}", "Host": "evil.example"},
        )

    assert response.status_code in (400, 403, 421)


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("mcp.example.org", 200),
        ("127.0.0.1:8000", 200),  # kubectl port-forward to 127.0.0.1
        ("localhost:8000", 200),
        ("evil.example", 421),
    ],
)
async def test_http_with_an_allow_list_still_answers_loopback_hosts(
    harness: Harness, host: str, status: int
) -> None:
    async with (
        http_server(harness, allowed_hosts=("mcp.example.org",)) as base,
        httpx.AsyncClient() as http,
    ):
        response = await http.post(
            f"{base}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={
                "Authorization": f"Bearer {ALICE_TOKEN}",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-11-25",
                "Host": host,
            },
        )

    assert response.status_code == status, response.text


async def test_http_delivers_progress(harness: Harness) -> None:
    number = await running_job(harness)
    messages: list[str] = []
    polled = anyio.Event()

    async def progress(done: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")
        polled.set()

    async with (
        http_server(harness) as base,
        mcp_client(base, ALICE_TOKEN) as client,
        anyio.create_task_group() as group,
    ):
        group.start_soon(
            lambda: client.call_tool(
                "jarvice_wait", {"number": number}, progress_callback=progress
            )
        )
        with anyio.fail_after(10):
            await polled.wait()
        harness.sandbox.advance(60)

    assert messages
    assert f"Job {number}" in messages[0]


async def test_http_confirmation_by_era(harness: Harness, era: str) -> None:
    number = await running_job(harness)
    questions: list[str] = []

    async def accept(context: Any, params: ElicitRequestParams) -> ElicitResult:
        questions.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with (
        http_server(harness) as base,
        mcp_client(base, ALICE_TOKEN, era, accept) as client,
    ):
        result = await client.call_tool("jarvice_terminate", {"number": number})

    if era == "modern":
        assert not result.is_error, text_of(result)
        assert len(questions) == 1
        assert "terminate" in endpoints(harness.sandbox)
    else:
        assert result.is_error
        assert "over stateless HTTP this server cannot ask" in text_of(result)
        assert "protocol version 2026-07-28" in text_of(result)
        assert "does not support elicitation" not in text_of(result)
        assert "terminate" not in endpoints(harness.sandbox)


async def test_http_tells_a_modern_client_without_elicitation_it_cannot_ask(
    harness: Harness,
) -> None:
    number = await running_job(harness)

    async with http_server(harness) as base, mcp_client(base, ALICE_TOKEN) as c:
        result = await c.call_tool("jarvice_terminate", {"number": number})

    assert result.is_error
    assert "does not support elicitation" in text_of(result)
    assert "terminate" not in endpoints(harness.sandbox)


async def test_http_on_a_port_in_use_says_so(harness: Harness) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        runtime = harness.runtime(
            identities=identities(harness), transport="http", port=port
        )

        with pytest.raises(ConfigurationError, match=f"127.0.0.1:{port}"):
            await HttpService(build_server(runtime), runtime).run()


async def test_demo_command_prints_a_working_endpoint_and_token() -> None:
    """README's run command: the banner's URL and token are the ones that work."""
    command = [sys.executable, "-m", "mcp_server", "--sandbox"]
    command += ["--transport", "http", "--port", "0", "--log-level", "WARNING"]

    async with await anyio.open_process(command) as process:
        assert process.stderr is not None
        banner = ""
        with anyio.fail_after(30):
            async for chunk in process.stderr:
                banner += chunk.decode()
                if "Ctrl-C stops the server." in banner:
                    break
        url = next(w for w in banner.split() if w.endswith("/mcp"))
        token = banner.split("bearer token")[1].split()[0]
        try:
            async with mcp_client(url.removesuffix("/mcp"), token) as client:
                tools = {tool.name for tool in (await client.list_tools()).tools}
                explained = await client.call_tool(
                    "jarvice_explain", {"number": 123006}
                )
        finally:
            process.terminate()

    assert f'--header "Authorization: Bearer {token}"' in banner
    assert "jarvice_explain" in tools
    assert not explained.is_error, text_of(explained)
    assert "123006" in text_of(explained)
