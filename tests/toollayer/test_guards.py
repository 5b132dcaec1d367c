"""Guards: confirm actions need a human's yes for this exact call, admin
actions need an admin caller, and neither can be skipped."""

from __future__ import annotations

import dataclasses
import time
from urllib.parse import parse_qs

import httpx
import pytest

from jarvice_tools import ACTIONS, Caller, Credentials, Guard, JarviceClient, confirm
from jarvice_tools.errors import (
    AdminRequired,
    ConfirmationRejected,
    ConfirmationRequired,
    GuardError,
)
from jarvice_tools.models import JobRef, SignalParams
from tests.toollayer.support import (
    API_URL,
    APIKEY,
    ScriptedTransport,
    json_answer,
    status_answer,
    text_answer,
)

pytestmark = pytest.mark.anyio

CONFIRM_ACTIONS = sorted(a.name for a in ACTIONS.values() if a.guard is Guard.CONFIRM)
ADMIN_ACTIONS = sorted(a.name for a in ACTIONS.values() if a.guard is Guard.ADMIN)
MINIMAL = {
    "terminate": {"number": 7},
    "shutdown": {"number": 7},
    "build": {"target": "alice-myapp"},
}


def test_the_guards_are_the_documented_ones() -> None:
    assert CONFIRM_ACTIONS == ["build", "shutdown", "terminate"]
    assert ADMIN_ACTIONS == ["audit", "billing", "projects", "queues"]


def running_job_answers(script: ScriptedTransport) -> None:
    entry = {
        "job_number": 7,
        "job_name": "20261203120000-ABCDE-jarvice-batch-alice_s1",
        "job_status": "PROCESSING STARTING",
        "job_mc_name": "n3",
        "job_mc_scale": 2,
    }
    script.plan(status_answer(7, "PROCESSING STARTING"), json_answer({"7": entry}))


@pytest.mark.parametrize("name", CONFIRM_ACTIONS)
async def test_confirm_action_without_confirmation_sends_only_reads(
    client: JarviceClient, script: ScriptedTransport, name: str
) -> None:
    if name == "build":
        script.plan(text_answer("built 2 days ago\n"))
    else:
        running_job_answers(script)

    with pytest.raises(ConfirmationRequired) as caught:
        await client.run(ACTIONS[name], MINIMAL[name])

    paths = [r.url.path for r in script.requests]
    assert paths
    assert not [p for p in paths if p.endswith(ACTIONS[name].path)]
    assert all(p.endswith(("/status", "/jobs", "/history")) for p in paths)
    assert caught.value.preview.action == name


async def test_terminate_preview_shows_the_job(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    running_job_answers(script)

    with pytest.raises(ConfirmationRequired) as caught:
        await client.terminate(7)

    preview = caught.value.preview
    assert (preview.job_number, preview.job_status) == (7, "PROCESSING STARTING")
    assert (preview.machine_type, preview.nodes) == ("n3", 2)
    assert (preview.run_seconds or 0) > 0
    text = preview.as_text()
    assert "2 x n3" in text
    assert "unsaved work is lost" in text


async def test_shutdown_preview_warns_when_the_job_is_not_running(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(status_answer(7, "SUBMITTED"), json_answer({}))

    with pytest.raises(ConfirmationRequired) as caught:
        await client.shutdown(7)

    assert "JARVICE will refuse it" in (caught.value.preview.warning or "")


async def test_confirmed_terminate_is_sent_once(
    client: JarviceClient, script: ScriptedTransport, caller: Caller
) -> None:
    yes = confirm("terminate", JobRef(number=7), username="alice", confirmed_by="t")
    script.plan(json_answer({"status": "terminated"}))

    result = await client.terminate(7, confirmation=yes)

    assert result.status == "terminated"
    assert [r.url.path for r in script.requests] == ["/api/jarvice/terminate"]


async def test_a_confirmation_works_once(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    yes = confirm("terminate", JobRef(number=7), username="alice", confirmed_by="t")
    script.plan(json_answer({"status": "terminated"}))
    await client.terminate(7, confirmation=yes)

    with pytest.raises(ConfirmationRejected, match="already used"):
        await client.terminate(7, confirmation=yes)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("action", "params", "username", "call_number"),
    [
        ("terminate", JobRef(number=8), "alice", 7),
        ("shutdown", JobRef(number=7), "alice", 7),
        ("terminate", JobRef(number=7), "bob", 7),
    ],
    ids=["other-job", "other-action", "other-user"],
)
async def test_a_confirmation_for_another_call_is_rejected(
    client: JarviceClient,
    script: ScriptedTransport,
    action: str,
    params: JobRef,
    username: str,
    call_number: int,
) -> None:
    yes = confirm(action, params, username=username, confirmed_by="t")

    with pytest.raises(ConfirmationRejected, match="different call"):
        await client.terminate(call_number, confirmation=yes)
    assert script.requests == []


async def test_an_expired_confirmation_is_rejected(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    yes = confirm("terminate", JobRef(number=7), username="alice", confirmed_by="t")
    stale = dataclasses.replace(yes, expires_at=time.time() - 1)

    with pytest.raises(ConfirmationRejected, match="expired"):
        await client.terminate(7, confirmation=stale)
    assert script.requests == []


@pytest.mark.parametrize("name", ADMIN_ACTIONS)
async def test_admin_action_refused_for_a_non_admin(
    client: JarviceClient, script: ScriptedTransport, name: str
) -> None:
    with pytest.raises(AdminRequired, match="administrator action"):
        await client.run(ACTIONS[name], {})
    assert script.requests == []


async def test_admin_action_runs_for_an_admin(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    admin = Caller(credentials=Credentials(username="admin", apikey=APIKEY), admin=True)
    script.plan(json_answer({"acme-proj": ["alice", "bob"]}))

    projects = await client.for_caller(admin).projects()

    assert projects.root == {"acme-proj": ["alice", "bob"]}


@pytest.mark.parametrize(
    ("name", "changes", "params"),
    [
        ("terminate", {"guard": Guard.READ}, {"number": 7}),
        ("shutdown", {"guard": Guard.WRITE}, {"number": 7}),
        ("projects", {"guard": Guard.READ}, {}),
        ("signal", {"confirm_when": None}, {"number": 7, "signal": 9}),
        ("status", {"name": "my-status"}, {"number": 7}),
    ],
    ids=["terminate-read", "shutdown-write", "projects-read", "signal-9", "renamed"],
)
async def test_a_modified_copy_of_an_action_is_refused_and_sends_nothing(
    client: JarviceClient,
    script: ScriptedTransport,
    name: str,
    changes: dict[str, object],
    params: dict[str, object],
) -> None:
    copy = dataclasses.replace(ACTIONS[name], **changes)  # type: ignore[arg-type]

    with pytest.raises(GuardError, match="not the one in the registry"):
        await client.run(copy, params)
    with pytest.raises(GuardError, match="nothing was sent"):
        await client.preview(copy, params)
    assert script.requests == []


@pytest.mark.parametrize("signal", [1, 2, 9, 10, 15])
async def test_a_signal_that_may_end_processes_needs_confirmation(
    client: JarviceClient, script: ScriptedTransport, signal: int
) -> None:
    running_job_answers(script)

    with pytest.raises(ConfirmationRequired) as caught:
        await client.signal(7, signal=signal)

    paths = [r.url.path for r in script.requests]
    assert paths
    assert not [p for p in paths if p.endswith("/jarvice/signal")]
    assert caught.value.preview.summary.startswith("Send SIG")
    assert f"({signal}) to job 7" in caught.value.preview.summary


@pytest.mark.parametrize("signal", [17, 18, 19, 20, 21, 22, 23, 28])
async def test_signals_that_do_not_end_processes_run_at_once(
    client: JarviceClient, script: ScriptedTransport, signal: int
) -> None:
    script.plan(json_answer({"signal": signal, "pid": 42}))

    result = await client.signal(7, signal=signal)

    assert result.signal == signal
    assert [r.url.path for r in script.requests] == ["/api/jarvice/signal"]


async def test_a_confirmed_kill_signal_is_sent(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    params = SignalParams(number=7, signal=9)
    yes = confirm("signal", params, username="alice", confirmed_by="t")
    script.plan(json_answer({"signal": 9, "pid": 42}))

    await client.signal(7, signal=9, confirmation=yes)

    assert len(script.requests) == 1


async def test_the_preview_summary_does_not_change_while_the_job_runs(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    running_job_answers(script)
    running_job_answers(script)

    with pytest.raises(ConfirmationRequired) as first:
        await client.terminate(7)
    with pytest.raises(ConfirmationRequired) as second:
        await client.terminate(7)

    assert first.value.preview.summary == second.value.preview.summary
    assert first.value.preview.started_at == 1764763205


async def test_a_signal_preview_reads_the_status_of_the_job_only(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    running_job_answers(script)

    with pytest.raises(ConfirmationRequired):
        await client.signal(7, signal=9)

    status = script.requests[0]
    assert status.url.path.endswith("/status")
    assert parse_qs(status.content.decode(), keep_blank_values=True) == {
        "username": ["alice"],
        "apikey": [APIKEY],
        "number": ["7"],
    }


async def test_a_confirmation_spent_by_one_client_is_refused_by_another(
    client: JarviceClient, script: ScriptedTransport, caller: Caller
) -> None:
    yes = confirm("terminate", JobRef(number=7), username="alice", confirmed_by="t")
    script.plan(json_answer({"status": "terminated"}))
    await client.terminate(7, confirmation=yes)

    transport = httpx.MockTransport(script.handle)
    async with JarviceClient(API_URL, caller=caller, transport=transport) as other:
        with pytest.raises(ConfirmationRejected, match="already used"):
            await other.terminate(7, confirmation=yes)
    assert len(script.requests) == 1
