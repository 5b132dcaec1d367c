"""When JARVICE fails or refuses: every error result says what happened and
what to do next, and a change is never sent twice."""

from __future__ import annotations

import pytest

from jarvice_tools.client import RetryPolicy
from mcp_server.server import build_server
from tests.mcp.mcp_harness import Harness, connect, endpoints, text_of

pytestmark = pytest.mark.anyio

BATCH = {
    "container": {"image": "library/ubuntu:jammy", "jobscript": "hostname"},
    "machine": {"type": "n0"},
}


async def test_a_dropped_submission_is_not_sent_again(
    harness: Harness, era: str
) -> None:
    harness.sandbox.inject_fault("batch", drop=True, after=True)

    async with connect(harness.server(), era) as client:
        result = await client.call_tool("jarvice_batch", BATCH)

    assert result.is_error
    assert "may or may not have taken effect" in text_of(result)
    assert "check the job list" in text_of(result)
    assert endpoints(harness.sandbox) == ["batch"]


async def test_a_failing_read_is_retried(harness: Harness, era: str) -> None:
    harness.sandbox.inject_fault("status", status=503, times=1)
    runtime = harness.runtime()
    runtime.client.retry = RetryPolicy(base=0.0, cap=0.0)

    async with connect(build_server(runtime), era) as client:
        result = await client.call_tool("jarvice_status", {"number": 123006})

    assert not result.is_error, text_of(result)
    assert endpoints(harness.sandbox) == ["status", "status"]


async def test_an_unknown_job_says_how_to_find_the_right_one(harness: Harness) -> None:
    async with connect(harness.server(), "modern") as client:
        result = await client.call_tool("jarvice_output", {"number": 999999})

    assert result.is_error
    assert "found no job 999999" in text_of(result)
    assert "with jarvice_jobs and its state with jarvice_status" in text_of(result)
    assert "(use jarvice_tail while it runs)" in text_of(result)


async def test_without_credentials_every_call_says_what_to_set(
    harness: Harness, era: str
) -> None:
    async with connect(harness.server(None), era) as client:
        read = await client.call_tool("jarvice_jobs", {})
        change = await client.call_tool("jarvice_terminate", {"number": 123006})

    assert read.is_error
    assert "JARVICE_USERNAME and JARVICE_APIKEY" in text_of(read)
    assert change.is_error
    assert "JARVICE_USERNAME and JARVICE_APIKEY" in text_of(change)
    assert harness.sandbox.requests == []


async def test_a_status_answer_without_the_job_is_a_readable_error(
    harness: Harness,
) -> None:
    harness.sandbox.inject_fault("status", status=200, body="{}", times=2)

    async with connect(harness.server(), "modern") as client:
        status = await client.call_tool("jarvice_status", {"number": 123006})
        explain = await client.call_tool("jarvice_explain", {"number": 123006})

    for result in (status, explain):
        assert result.is_error
        assert "held 0 jobs where one was expected" in text_of(result)
