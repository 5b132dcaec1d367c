"""Cold start: `jarvice-mcp` over stdio until it has answered tools/list,
against a bare one-tool `MCPServer` doing the same.

Each round starts a fresh process through the SDK's own stdio client and
times from spawning it to the tools/list answer; the two servers alternate
(A B A B ...) so that machine noise hits both alike. Goal: at most 1.3x the
bare server.

Run: `.venv/bin/python -m bench mcp_startup [--record]`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

ROUNDS = 12
GOAL = 1.3

BARE_SERVER = """
from mcp.server.mcpserver import MCPServer

server = MCPServer("bare")


@server.tool()
def ping() -> str:
    return "pong"


server.run()
"""


async def cold_start(command: StdioServerParameters) -> float:
    started = time.perf_counter()
    async with Client(command) as client:
        tools = await client.list_tools()
    elapsed = time.perf_counter() - started
    assert tools.tools
    return elapsed


def main() -> None:
    jarvice_mcp = Path(sys.executable).with_name("jarvice-mcp")
    env = {
        **os.environ,
        "JARVICE_API_URL": "http://127.0.0.1:9",
        "JARVICE_USERNAME": "bench",
        "JARVICE_APIKEY": "not-used",
        "JARVICE_MCP_LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryDirectory() as folder:
        bare_script = Path(folder, "bare.py")
        bare_script.write_text(BARE_SERVER)
        commands = {
            "bare one-tool MCPServer": StdioServerParameters(
                command=sys.executable, args=[str(bare_script)], env=env
            ),
            "jarvice-mcp": StdioServerParameters(command=str(jarvice_mcp), env=env),
        }
        for command in commands.values():
            asyncio.run(cold_start(command))
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(ROUNDS):
            for name, command in commands.items():
                times[name].append(asyncio.run(cold_start(command)))

    bare = statistics.median(times["bare one-tool MCPServer"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        rows.append(
            f"| {name} | {median * 1000:,.0f} | {min(values) * 1000:,.0f} to "
            f"{max(values) * 1000:,.0f} | {median / bare:.2f}x |"
        )
    report = "\n".join(
        [
            f"### MCP server: cold start to tools/list ({dt.date.today()})",
            "",
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}. "
            "Command: `python -m bench mcp_startup`. Spawn over stdio to the "
            f"tools/list answer; median of {ROUNDS} alternating rounds after a "
            f"warm-up. Goal: at most {GOAL}x the bare server.",
            "",
            "| server | ms (median) | range | vs bare |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    print(report)
    if "--record" in sys.argv:
        with Path(__file__).with_name("RESULTS.md").open("a") as results:
            results.write("\n" + report)


if __name__ == "__main__":
    main()
