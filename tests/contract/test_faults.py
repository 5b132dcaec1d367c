"""Reliability against the sandbox's fault injection: reads are retried,
changes are never sent twice, and every failure reads clearly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from jarvice_tools import JarviceClient, RetryPolicy
from jarvice_tools.errors import (
    ApiError,
    InvalidParameters,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    Timeout,
)
from jarvice_tools.sandbox import SandboxServer
from tests.contract.conftest import caller_for

pytestmark = pytest.mark.anyio

BATCH = {
    "container": {"image": "library/ubuntu:jammy", "jobscript": "sleep 5"},
    "machine": {"type": "n0"},
}


@pytest.fixture
async def impatient(sandbox: SandboxServer) -> AsyncIterator[JarviceClient]:
    """A client that gives up on an answer after 0.2 s."""
    retry = RetryPolicy(attempts=3, base=0.01, cap=0.05)
    async with JarviceClient(
        sandbox.url, caller=caller_for(sandbox, "alice"), retry=retry, timeout=0.2
    ) as client:
        yield client


def received(sandbox: SandboxServer, endpoint: str) -> int:
    return sum(1 for r in sandbox.requests if r.endpoint == endpoint)


def alice_jobs(sandbox: SandboxServer) -> int:
    return len(sandbox.jobs_of("alice"))


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "body": '{"error": "Service Unavailable"}'},
        {"status": 502},
        {"drop": True},
        {"delay": 0.5},
    ],
    ids=["503", "502", "dropped", "slow"],
)
async def test_a_read_is_retried_through_transient_faults(
    impatient: JarviceClient, sandbox: SandboxServer, fault: dict[str, object]
) -> None:
    sandbox.inject_fault("machines", times=2, **fault)  # type: ignore[arg-type]

    machines = await impatient.machines()

    assert "n0" in machines.root
    assert received(sandbox, "machines") == 3


async def test_a_read_that_keeps_failing_ends_in_a_clear_error(
    impatient: JarviceClient, sandbox: SandboxServer
) -> None:
    sandbox.inject_fault("machines", delay=0.5, times=3)

    with pytest.raises(Timeout, match="did not answer machines in time"):
        await impatient.machines()


async def test_malformed_json_is_reported_not_retried(
    impatient: JarviceClient, sandbox: SandboxServer
) -> None:
    sandbox.inject_fault("apps", malformed=True)

    with pytest.raises(MalformedResponse, match="not valid JSON"):
        await impatient.apps()
    assert received(sandbox, "apps") == 1


@pytest.mark.parametrize("after", [False, True], ids=["before", "after-processing"])
async def test_a_dropped_submission_is_never_resent(
    impatient: JarviceClient, sandbox: SandboxServer, after: bool
) -> None:
    jobs_before = alice_jobs(sandbox)
    sandbox.inject_fault("batch", drop=True, after=after)

    with pytest.raises(OutcomeUnknown, match="check the job list"):
        await impatient.batch(BATCH)

    assert received(sandbox, "batch") == 1
    assert alice_jobs(sandbox) == jobs_before + (1 if after else 0)


async def test_a_slow_submission_is_outcome_unknown_and_not_resent(
    impatient: JarviceClient, sandbox: SandboxServer
) -> None:
    sandbox.inject_fault("batch", delay=0.5)

    with pytest.raises(OutcomeUnknown):
        await impatient.batch(BATCH)

    assert received(sandbox, "batch") == 1


@pytest.mark.parametrize(
    ("status", "error"), [(503, ServerError), (429, RateLimited), (500, ServerError)]
)
async def test_a_refused_submission_is_not_retried(
    impatient: JarviceClient,
    sandbox: SandboxServer,
    status: int,
    error: type[Exception],
) -> None:
    sandbox.inject_fault("batch", status=status, body='{"error": "busy"}')

    with pytest.raises(error, match="busy"):
        await impatient.batch(BATCH)

    assert received(sandbox, "batch") == 1


async def test_invalid_input_reaches_nothing(
    impatient: JarviceClient, sandbox: SandboxServer
) -> None:
    bad = {**BATCH, "container": {"image": "ubuntu", "jobscript": "x"}}

    with pytest.raises(InvalidParameters):
        await impatient.batch(bad)
    with pytest.raises(InvalidParameters):
        await impatient.tail(lines=-1)

    assert sandbox.requests == []


TEXT_CALLS = {
    "tail": lambda client: client.tail(7),
    "output": lambda client: client.output(7),
    "history": lambda client: client.history("alice-myapp"),
    "audit": lambda client: client.audit(),
    "billing": lambda client: client.billing(),
}


@pytest.mark.parametrize("endpoint", sorted(TEXT_CALLS))
async def test_an_error_in_a_200_answer_to_a_text_call_is_raised(
    impatient: JarviceClient, sandbox: SandboxServer, endpoint: str
) -> None:
    admin = impatient.for_caller(caller_for(sandbox, "admin", admin=True))
    body = '{"error": "Running job is not found"}'
    sandbox.inject_fault(endpoint, status=200, body=body)

    with pytest.raises(ApiError, match="with an error instead of a result") as caught:
        await TEXT_CALLS[endpoint](admin)

    assert caught.value.status_code == 200
    assert caught.value.server_message == "Running job is not found"
    assert received(sandbox, endpoint) == 1


async def test_a_text_answer_that_only_mentions_an_error_is_text(
    impatient: JarviceClient, sandbox: SandboxServer
) -> None:
    body = '{"error": "none", "note": "this job prints JSON"}'
    sandbox.inject_fault("tail", status=200, body=body)

    assert await impatient.tail(7) == body
