"""Bad arguments come back as readable error results naming the field, and
nothing reaches JARVICE."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.mcp.mcp_harness import Harness, connect, endpoints, text_of

pytestmark = pytest.mark.anyio

BATCH = {
    "container": {"image": "library/ubuntu:jammy", "jobscript": "hostname"},
    "machine": {"type": "n0"},
}


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("jarvice_status", {"number": 0}, "number: Input should be greater than"),
        ("jarvice_status", {}, "number: give the job number (or the job name)"),
        (
            "jarvice_status",
            {"number": 5, "name": "x"},
            "name: give either the job number or the job name, not both",
        ),
        ("jarvice_status", {"numbr": 5}, "numbr is not a parameter of this tool"),
        ("jarvice_signal", {"number": 5, "signal": "SIGTERM"}, "SIGTERM is 15"),
        ("jarvice_vault", {"vault": "v", "sort": "s"}, "sort: sorting by size needs"),
        (
            "jarvice_output",
            {"number": 5, "lines": -1},
            "lines: Input should be greater",
        ),
        (
            "jarvice_batch",
            {**BATCH, "machine": {"type": "n0", "nodes": 0}},
            "machine.nodes: Input should be greater than or equal to 1",
        ),
        (
            "jarvice_batch",
            {**BATCH, "container": {"image": "ubuntu:jammy", "jobscript": "x"}},
            "container.image: Docker Hub official images need the library/ prefix "
            "on JARVICE: use library/ubuntu:jammy",
        ),
        ("jarvice_batch", {"machine": {"type": "n0"}}, "container: is required"),
        ("jarvice_terminate", {}, "number: give the job number"),
        ("jarvice_wait", {"number": 5, "timeout_seconds": 100_000}, "timeout_seconds"),
        ("jarvice_explain", {"name": "two words"}, "name: must not contain spaces"),
    ],
)
async def test_invalid_arguments_are_named_and_nothing_is_sent(
    harness: Harness, era: str, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    async with connect(harness.server(), era) as client:
        result = await client.call_tool(tool, arguments)

    assert result.is_error
    text = text_of(result)
    assert expected in text
    assert text.startswith(f"Invalid arguments for {tool}: ")
    assert text.endswith("Nothing was sent to JARVICE.")
    assert harness.sandbox.requests == []


async def test_the_rejected_value_is_not_repeated(harness: Harness) -> None:
    secret = "c2VjcmV0LWRvY2tlci1jb25maWc="
    arguments = {
        **BATCH,
        "container": {"image": "library/x", "jobscript": "x", "pullsecret": 7},
        "vault": {"name": "v", "password": {"not": secret}},
    }

    async with connect(harness.server(), "modern") as client:
        result = await client.call_tool("jarvice_batch", arguments)

    assert result.is_error
    assert "vault.password" in text_of(result)
    assert secret not in text_of(result)


async def test_nested_objects_sent_as_json_text_are_accepted(harness: Harness) -> None:
    arguments = {key: json.dumps(value) for key, value in BATCH.items()}

    async with connect(harness.server(), "legacy") as client:
        result = await client.call_tool("jarvice_batch", arguments)

    assert not result.is_error, text_of(result)
    assert endpoints(harness.sandbox) == ["batch"]
