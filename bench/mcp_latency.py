"""Latency of one tool call through the MCP SDK client, against the same
action called directly on the tool layer.

One status call per measurement, against the sandbox, in two settings:
loopback HTTP, and HTTPS with 20 ms added per reply (a JARVICE tens of
milliseconds away). Variants, alternated round by round in one run:

- direct: `JarviceClient.status(n)`, the tool layer alone (the baseline);
- bare, in-process / stdio: a one-tool `MCPServer` whose tool calls the same
  client method and returns its dump (the SDK's own floor);
- jarvice-mcp, in-process / stdio: `jarvice_status` through our server
  (in-process: the SDK `Client` on the server object, protocol 2026-07-28;
  stdio: `jarvice-mcp` as a subprocess, as an MCP host runs it).

Goal: jarvice-mcp at most 1.2x the direct call.

Run: `.venv/bin/python -m bench mcp_latency [--record]`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.server.mcpserver import MCPServer

from bench.client_vs_jarviceclient3 import self_signed
from jarvice_tools import Caller, Credentials, JarviceClient
from jarvice_tools.sandbox import SandboxServer
from mcp_server.config import ServerConfig
from mcp_server.identity import Identities, Principal
from mcp_server.runtime import Runtime
from mcp_server.server import build_server

CALLS = 100
ROUNDS = 5
LATENCY = 0.02
GOAL = 1.2

BARE_SERVER = """
import os
from mcp.server.mcpserver import MCPServer
from jarvice_tools import JarviceClient

server = MCPServer("bare")
client = JarviceClient.from_settings()


@server.tool()
async def status(number: int) -> dict:
    return (await client.status(number)).model_dump(mode="json")


server.run()
"""

Call = Callable[[], Awaitable[Any]]


def bare_server(client: JarviceClient) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("bare")

    @server.tool()
    async def status(number: int) -> dict[str, Any]:
        return (await client.status(number)).model_dump(mode="json")

    return server


async def timed(call: Call, calls: int) -> list[float]:
    durations = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        durations.append(time.perf_counter() - started)
    return durations


async def measure(
    server: SandboxServer, ca_file: str | None, script: Path
) -> dict[str, list[float]]:
    account = server.account("alice")
    credentials = Credentials(username="alice", apikey=account.apikey)
    caller = Caller(credentials=credentials)
    verify_env = {"SSL_CERT_FILE": ca_file} if ca_file else {}
    env = {
        **os.environ,
        **verify_env,
        "JARVICE_API_URL": server.url,
        "JARVICE_USERNAME": "alice",
        "JARVICE_APIKEY": account.apikey,
        "JARVICE_MCP_LOG_LEVEL": "WARNING",
    }
    if ca_file:
        os.environ["SSL_CERT_FILE"] = ca_file

    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            JarviceClient(server.url, caller=caller)
        )
        number = (await client.jobs(completed=True)).root.popitem()[0]
        runtime = Runtime(
            config=ServerConfig(),
            identities=Identities(default=Principal("stdio:alice", caller)),
            client_or_factory=client,
        )
        ours = await stack.enter_async_context(Client(build_server(runtime)))
        bare = await stack.enter_async_context(Client(bare_server(client)))
        bare_stdio = await stack.enter_async_context(
            Client(
                StdioServerParameters(
                    command=sys.executable, args=[str(script)], env=env
                )
            )
        )
        jarvice_mcp = str(Path(sys.executable).with_name("jarvice-mcp"))
        ours_stdio = await stack.enter_async_context(
            Client(StdioServerParameters(command=jarvice_mcp, env=env))
        )

        async def checked(session: Client, tool: str) -> None:
            result = await session.call_tool(tool, {"number": number})
            assert not result.is_error, result

        variants: dict[str, Call] = {
            "direct (tool layer)": lambda: client.status(number),
            "bare MCPServer, in-process": lambda: checked(bare, "status"),
            "jarvice-mcp, in-process": lambda: checked(ours, "jarvice_status"),
            "bare MCPServer, stdio": lambda: checked(bare_stdio, "status"),
            "jarvice-mcp, stdio": lambda: checked(ours_stdio, "jarvice_status"),
        }
        for call in variants.values():
            await timed(call, 10)
        durations: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(ROUNDS):
            for name, call in variants.items():
                durations[name] += await timed(call, CALLS)
    return durations


def rows(setting: str, durations: dict[str, list[float]]) -> list[str]:
    direct = statistics.median(durations["direct (tool layer)"])
    medians = {name: statistics.median(values) for name, values in durations.items()}
    lines = []
    for name, values in durations.items():
        quartiles = statistics.quantiles(values, n=4)
        bare_name = name.replace("jarvice-mcp", "bare MCPServer")
        over_bare = (
            f"{medians[name] / medians[bare_name]:.2f}x"
            if name.startswith("jarvice-mcp")
            else ""
        )
        lines.append(
            f"| {setting} | {name} | {medians[name] * 1000:.2f} | "
            f"{quartiles[0] * 1000:.2f} to {quartiles[2] * 1000:.2f} | "
            f"{medians[name] / direct:.2f}x | {over_bare} |"
        )
    return lines


def main() -> None:
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder, "bare.py")
        script.write_text(BARE_SERVER)
        with SandboxServer(clock="manual") as server:
            durations = asyncio.run(measure(server, None, script))
        lines += rows("loopback HTTP", durations)
        with self_signed() as (cert, key):
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            with SandboxServer(
                clock="manual", latency=LATENCY, ssl_context=context
            ) as server:
                durations = asyncio.run(measure(server, str(cert), script))
        lines += rows(f"HTTPS + {LATENCY * 1000:.0f} ms", durations)

    report = "\n".join(
        [
            f"### MCP server: tool-call latency vs the tool layer ({dt.date.today()})",
            "",
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}. "
            "Command: `python -m bench mcp_latency`. One status call per "
            f"measurement, {ROUNDS} alternating rounds of {CALLS} calls per "
            f"variant after a warm-up; median and interquartile range. Goal: "
            f"jarvice-mcp at most {GOAL}x the direct call.",
            "",
            "| setting | variant | ms (median) | IQR | vs direct | vs bare |",
            "|---|---|---|---|---|---|",
            *lines,
            "",
        ]
    )
    print(report)
    if "--record" in sys.argv:
        with Path(__file__).with_name("RESULTS.md").open("a") as results:
            results.write("\n" + report)


if __name__ == "__main__":
    main()
