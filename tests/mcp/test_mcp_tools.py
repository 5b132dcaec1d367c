"""Every generated tool against the sandbox, through the SDK client, in both
protocol eras."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult, ImageContent

from jarvice_tools.actions import ACTIONS
from tests.mcp.mcp_harness import (
    Harness,
    connect,
    endpoints,
    framed,
    running_job,
    text_of,
)

pytestmark = pytest.mark.anyio

Check = Callable[[CallToolResult], None]


@dataclass(frozen=True)
class Case:
    tool: str
    arguments: dict[str, Any]
    check: Check
    user: str = "alice"
    needs_running_job: bool = False
    running_for: float = 5.0

    def __str__(self) -> str:
        return self.tool


def data(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None
    return result.structured_content


def has(key: str, value: Any = None) -> Check:
    def check(result: CallToolResult) -> None:
        found = data(result)[key]
        if value is not None:
            assert found == value

    return check


def listing(key: str, contains: object, field: str = "name") -> Check:
    def check(result: CallToolResult) -> None:
        names = [entry[field] for entry in data(result)[key]]
        assert contains in names

    return check


def untrusted_text(contains: str) -> Check:
    def check(result: CallToolResult) -> None:
        text = text_of(result)
        assert contains in "".join(framed(text))
        assert result.structured_content is None

    return check


def png(result: CallToolResult) -> None:
    image = result.content[0]
    assert isinstance(image, ImageContent)
    assert image.mime_type == "image/png"
    assert base64.b64decode(image.data).startswith(b"\x89PNG\r\n\x1a\n")


SEEDED: dict[str, Any] = {}
"""Stands for the seeded AppDef of jarvice-ubuntu, fetched for the test."""

RUNNING = -1
"""Stands for the number of a running job submitted for the test."""

CASES = [
    Case("jarvice_jobs", {"completed": True}, listing("jobs", 123006, "number")),
    Case("jarvice_teamjobs", {"completed": True}, has("jobs"), user="carol"),
    Case("jarvice_status", {"number": 123006}, has("status", "COMPLETED WITH ERROR")),
    Case(
        "jarvice_metrics",
        {"number": RUNNING},
        has("summary"),
        needs_running_job=True,
        running_for=35,
    ),
    Case("jarvice_output", {"number": 123006}, untrusted_text("FileNotFoundError")),
    Case(
        "jarvice_tail",
        {"number": RUNNING},
        untrusted_text("INIT[1]"),
        needs_running_job=True,
    ),
    Case("jarvice_screenshot", {"number": 123016}, png, user="bob"),
    Case("jarvice_connect", {"number": 123016}, has("address"), user="bob"),
    Case("jarvice_info", {"number": 123016}, has("actions"), user="bob"),
    Case(
        "jarvice_signal",
        {"number": RUNNING, "signal": 20},
        has("signal", 20),
        needs_running_job=True,
    ),
    Case(
        "jarvice_action",
        {"number": 123016, "action": "restart-desktop"},
        has("status"),
        user="bob",
    ),
    Case(
        "jarvice_shutdown", {"number": RUNNING}, has("status"), needs_running_job=True
    ),
    Case(
        "jarvice_terminate", {"number": RUNNING}, has("status"), needs_running_job=True
    ),
    Case(
        "jarvice_batch",
        {
            "container": {"image": "library/ubuntu:jammy", "jobscript": "hostname"},
            "machine": {"type": "n0"},
        },
        has("number"),
    ),
    Case(
        "jarvice_submit",
        {
            "app": "jarvice-ubuntu",
            "machine": {"type": "n0", "nodes": 1},
            "application": {"command": "Batch", "parameters": {"command": "hostname"}},
        },
        has("number"),
    ),
    Case("jarvice_teamusers", {}, listing("users", "alice", "username"), user="carol"),
    Case("jarvice_apps", {}, listing("apps", "jarvice-ubuntu", "id")),
    Case("jarvice_appdef", {"name": "jarvice-params"}, has("commands")),
    Case(
        "jarvice_validate",
        {"appdef": SEEDED},
        has("valid"),
    ),
    Case("jarvice_machines", {}, listing("machines", "n0")),
    Case(
        "jarvice_vault",
        {"vault": "alice-home", "path": "/"},
        listing("entries", "data/"),
    ),
    Case(
        "jarvice_history",
        {"target": "alice-myapp"},
        untrusted_text("Build of alice-myapp"),
    ),
    Case(
        "jarvice_pull",
        {"repo": "docker.io/alice/myapp:1.2", "target": "alice-myapp"},
        has("status"),
    ),
    Case("jarvice_build", {"target": "alice-myapp"}, has("status")),
    Case("jarvice_projects", {}, listing("projects", "carol-research"), user="admin"),
    Case("jarvice_billing", {"timeperiod": "last"}, has("columns"), user="admin"),
    Case(
        "jarvice_audit",
        {"category": "user"},
        untrusted_text("user alice created"),
        user="admin",
    ),
    Case("jarvice_queues", {"info": True}, listing("queues", "default"), user="admin"),
]


async def seeded_appdef(harness: Harness) -> dict[str, Any]:
    client = harness.runtime("alice").client
    appdef = await client.appdef("jarvice-ubuntu")
    harness.sandbox.clear_requests()
    return appdef.model_dump(mode="json", by_alias=True, exclude_unset=True)


async def accept(context: Any, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


def test_the_table_covers_every_action() -> None:
    assert {case.tool for case in CASES} == {f"jarvice_{name}" for name in ACTIONS}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_tool_runs_against_the_sandbox(
    harness: Harness, era: str, case: Case
) -> None:
    arguments = dict(case.arguments)
    if case.needs_running_job:
        arguments["number"] = await running_job(harness, case.user, case.running_for)
    if arguments.get("appdef") is SEEDED:
        arguments["appdef"] = await seeded_appdef(harness)
    server = harness.server(case.user, admin=case.user == "admin")

    async with connect(server, era, accept) as client:
        result = await client.call_tool(case.tool, arguments)

    assert not result.is_error, text_of(result)
    case.check(result)
    apikey = harness.sandbox.account(case.user).apikey
    assert apikey not in result.model_dump_json()
    action = case.tool.removeprefix("jarvice_")
    assert action in endpoints(harness.sandbox)


@pytest.mark.parametrize("asked", [0, 10**9])
async def test_lines_sent_to_jarvice_stay_within_what_a_result_holds(
    harness: Harness, asked: int
) -> None:
    server = harness.server(max_output_bytes=2_000)

    async with connect(server, "modern") as client:
        result = await client.call_tool(
            "jarvice_output", {"number": 123006, "lines": asked}
        )

    assert not result.is_error, text_of(result)
    (sent,) = [r for r in harness.sandbox.requests if r.endpoint.endswith("output")]
    assert sent.params["lines"] == "2000"
