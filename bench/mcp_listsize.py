"""Bytes of the MCP server's tools/list, counted exactly.

The answer as the SDK puts it on the wire (compact JSON, camelCase, no
nulls), for the default configuration (a user who is not an administrator,
every toolset) and for the others an operator may choose, with where the
bytes go. Goal: the default list in at most 16 KB.

Run: `.venv/bin/python -m bench mcp_listsize [--record]`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from mcp import Client

from jarvice_tools import Caller, Credentials, JarviceClient
from jarvice_tools.actions import TOOLSETS
from mcp_server.config import ServerConfig
from mcp_server.identity import Identities, Principal
from mcp_server.runtime import Runtime
from mcp_server.server import build_server

GOAL = 16_000
CONFIGURATIONS: list[tuple[str, dict[str, Any]]] = [
    ("default (user, all toolsets)", {}),
    ("administrator (--admin)", {"admin": True}),
    ("--read-only", {"read_only": True}),
    ("--confirm-fallback deny", {"confirm_fallback": "deny"}),
    *[(f"--toolsets {name}", {"toolsets": name, "admin": True}) for name in TOOLSETS],
]
PARTS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


async def tools_list(config: dict[str, Any]) -> tuple[int, int, dict[str, int]]:
    admin = bool(config.get("admin"))
    credentials = Credentials(username="alice", apikey="not-used")
    caller = Caller(credentials=credentials, admin=admin)
    async with JarviceClient("http://127.0.0.1:9", caller=caller) as client:
        runtime = Runtime(
            config=ServerConfig(**config),
            identities=Identities(default=Principal("stdio:alice", caller)),
            client_or_factory=client,
        )
        async with Client(build_server(runtime)) as session:
            result = await session.list_tools()
    wire = result.model_dump_json(by_alias=True, exclude_none=True)
    tools = json.loads(wire)["tools"]
    parts = {
        part: sum(
            len(json.dumps(t[part], separators=(",", ":"))) for t in tools if part in t
        )
        for part in PARTS
    }
    return len(wire), len(tools), parts


def main() -> None:
    rows = []
    breakdown = ""
    for label, config in CONFIGURATIONS:
        size, count, parts = asyncio.run(tools_list(config))
        rows.append(f"| {label} | {count} | {size:,} | {size / GOAL:.2f}x |")
        if not config:
            breakdown = ", ".join(f"{part} {value:,}" for part, value in parts.items())

    report = "\n".join(
        [
            f"### MCP server: tools/list size ({dt.date.today()})",
            "",
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}. "
            "Command: `python -m bench mcp_listsize`. Exact byte counts of the "
            "tools/list result as sent (compact JSON). Goal: default at most "
            f"{GOAL:,} bytes.",
            "",
            "| configuration | tools | bytes | vs goal |",
            "|---|---|---|---|",
            *rows,
            "",
            f"Default list by part (bytes): {breakdown}.",
            "",
        ]
    )
    print(report)
    if "--record" in sys.argv:
        with Path(__file__).with_name("RESULTS.md").open("a") as results:
            results.write("\n" + report)


if __name__ == "__main__":
    main()
