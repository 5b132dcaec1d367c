"""The watcher against the sandbox: transitions, call counts, faults, state."""

from __future__ import annotations

from typing import Any

import pytest

from jarvice_tools import Caller, Credentials, JarviceClient
from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.watch import (
    Cycle,
    EventKind,
    StaticUsers,
    WatchedUser,
    Watcher,
    WatchState,
)
from tests.watch.support import caller_for, calls, kinds, submit

pytestmark = pytest.mark.anyio

QUEUED, STARTED, FINISHED = EventKind.QUEUED, EventKind.STARTED, EventKind.FINISHED


def users(sandbox: SandboxServer, *names: str, team: bool = False) -> StaticUsers:
    return StaticUsers(
        tuple(WatchedUser(caller_for(sandbox, name), team=team) for name in names)
    )


def bobs_desktop(sandbox: SandboxServer) -> int:
    running = [j for j in sandbox.jobs_of("bob") if j.status == "PROCESSING STARTING"]
    assert len(running) == 1
    return running[0].number


async def step(watcher: Watcher) -> Cycle:
    cycle = await watcher.poll()
    watcher.accept(cycle)
    return cycle


async def test_a_job_is_reported_queued_started_and_finished_once(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    watcher = Watcher(client, users(sandbox, "alice"), clock=sandbox.now)
    assert (await step(watcher)).events == ()

    number = await submit(client, sandbox, "alice", "echo hello; sleep 20")
    assert kinds(await step(watcher)) == [(QUEUED, number, "SUBMITTED")]
    sandbox.advance(6)
    assert kinds(await step(watcher)) == [(STARTED, number, "PROCESSING STARTING")]
    sandbox.advance(30)
    finished = await step(watcher)
    assert kinds(finished) == [(FINISHED, number, "COMPLETED")]
    assert kinds(await step(watcher)) == []

    event = finished.events[0]
    assert event.previous == "PROCESSING STARTING"
    assert event.owner == "alice"
    assert event.job.job_walltime is not None
    assert event.job.job_mc_name == "n0"
    assert event.job.job_end_time > event.job.job_start_time > 0
    assert calls(sandbox) == {"jobs": 4, "status": 1}


async def test_jobs_running_when_watching_begins_are_a_baseline_not_news(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    desktop = bobs_desktop(sandbox)
    watcher = Watcher(client, users(sandbox, "bob"), clock=sandbox.now)
    assert (await step(watcher)).events == ()
    assert desktop in watcher.state.jobs

    sandbox.set_status(desktop, "TERMINATED")
    assert kinds(await step(watcher)) == [(FINISHED, desktop, "TERMINATED")]


async def test_a_job_that_ends_between_two_polls_is_news_at_its_lists_catch_up(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    seeded = {job.number for job in sandbox.jobs_of("alice")}
    source = users(sandbox, "alice")
    watcher = Watcher(client, source, clock=sandbox.now, catch_up_every=3)
    await step(watcher)
    quick = await submit(client, sandbox, "alice", "hostname")
    named = await submit(client, sandbox, "alice", "false")
    sandbox.advance(60)

    assert kinds(await step(watcher)) == []
    explicit = StaticUsers(
        (WatchedUser(caller_for(sandbox, "alice"), jobs=frozenset({named})),)
    )
    watcher.users = explicit
    sandbox.clear_requests()
    at_once = await step(watcher)
    assert kinds(at_once) == [(FINISHED, named, "COMPLETED WITH ERROR")]
    assert at_once.events[0].job.job_name.endswith("alice_s1")
    assert calls(sandbox) == {"jobs": 1, "status": 1}

    watcher.users = source
    sandbox.clear_requests()
    caught_up = await step(watcher)
    assert kinds(caught_up) == [(FINISHED, quick, "COMPLETED")]
    assert caught_up.events[0].previous is None
    assert caught_up.events[0].job.job_walltime is not None
    assert calls(sandbox) == {"jobs": 1, "jobs completed": 1}
    assert caught_up.calls.catch_ups == 1

    later = [kinds(await step(watcher)) for _ in range(3)]
    assert later == [[], [], []]
    assert seeded.isdisjoint(watcher.state.finished)


async def test_each_completed_list_is_read_once_every_n_polls_in_turn(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    names = ("alice", "bob", "carol", "dave")
    watcher = Watcher(client, users(sandbox, *names), catch_up_every=2)
    baseline = await step(watcher)
    assert baseline.calls.catch_ups == 4

    read: list[list[str]] = []
    for _ in range(4):
        sandbox.clear_requests()
        cycle = await step(watcher)
        completed = [r.username for r in sandbox.requests if r.params.get("completed")]
        assert cycle.calls.catch_ups == len(completed)
        assert cycle.calls.total == len(names) + len(completed)
        read.append(sorted(completed))
    assert [len(names_read) for names_read in read] == [2, 2, 2, 2]
    assert sorted(read[0] + read[1]) == sorted(names)
    assert read[2:] == read[:2]


async def test_a_job_submitted_while_its_completed_list_is_read_is_not_lost(
    sandbox: SandboxServer, client: JarviceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher = Watcher(client, users(sandbox, "alice"), clock=sandbox.now)
    watcher.catch_up_every = 1
    await step(watcher)
    real_catch_up = watcher._catch_up
    submitted: list[int] = []

    async def submit_between_the_two_reads(*args: Any) -> None:
        submitted.append(await submit(client, sandbox, "alice", "sleep 40"))
        submitted.append(await submit(client, sandbox, "alice", "hostname"))
        sandbox.advance(10)
        await real_catch_up(*args)

    monkeypatch.setattr(watcher, "_catch_up", submit_between_the_two_reads)
    slow_one_unlisted = await step(watcher)
    monkeypatch.undo()
    slow, quick = submitted
    assert kinds(slow_one_unlisted) == [(FINISHED, quick, "COMPLETED")]

    sandbox.set_status(slow, "COMPLETED WITH ERROR")
    assert kinds(await step(watcher)) == [(FINISHED, slow, "COMPLETED WITH ERROR")]
    assert kinds(await step(watcher)) == []


@pytest.mark.parametrize(
    "forced", ["COMPLETED", "COMPLETED WITH ERROR", "TERMINATED", "CANCELED"]
)
async def test_each_forced_final_status_is_reported_as_it_is(
    sandbox: SandboxServer, client: JarviceClient, forced: str
) -> None:
    watcher = Watcher(client, users(sandbox, "alice"), clock=sandbox.now)
    await step(watcher)
    number = await submit(client, sandbox, "alice", "sleep 40")
    await step(watcher)

    sandbox.set_status(number, forced)
    cycle = await step(watcher)
    assert kinds(cycle) == [(FINISHED, number, forced)]
    assert cycle.events[0].previous == "SUBMITTED"


async def test_calls_per_poll_are_users_plus_finished_jobs(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    watcher = Watcher(client, users(sandbox, "alice", "dave"), clock=sandbox.now)
    await step(watcher)
    jobs = [await submit(client, sandbox, "alice", "sleep 40") for _ in range(8)]
    jobs += [await submit(client, sandbox, "dave", "sleep 40") for _ in range(7)]
    await step(watcher)
    sandbox.advance(6)
    await step(watcher)
    sandbox.clear_requests()

    quiet = await step(watcher)
    assert quiet.calls.total == 2
    assert calls(sandbox) == {"jobs": 2}

    for number in jobs[:3] + jobs[-1:]:
        sandbox.set_status(number, "COMPLETED")
    sandbox.clear_requests()
    busy = await step(watcher)
    assert len(busy.events) == 4
    assert calls(sandbox) == {"jobs": 2, "status": 4}
    assert busy.calls.total == 6


async def test_a_team_admin_covers_the_team_in_one_call(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    source = StaticUsers(
        (
            WatchedUser(caller_for(sandbox, "carol"), team=True),
            WatchedUser(caller_for(sandbox, "alice")),
            WatchedUser(caller_for(sandbox, "bob")),
        )
    )
    watcher = Watcher(client, source, clock=sandbox.now)
    first = await step(watcher)
    assert calls(sandbox) == {"teamusers": 1, "teamjobs": 1, "teamjobs completed": 1}
    assert (first.calls.team_lookups, first.calls.catch_ups) == (1, 1)

    alice_job = await submit(client, sandbox, "alice", "sleep 40")
    carol_job = await submit(client, sandbox, "carol", "sleep 40")
    cycle = await step(watcher)
    assert kinds(cycle) == [
        (QUEUED, alice_job, "SUBMITTED"),
        (QUEUED, carol_job, "SUBMITTED"),
    ]
    assert [(e.owner, e.watchers) for e in cycle.events] == [
        ("alice", {"alice", "carol"}),
        ("carol", {"carol"}),
    ]
    assert calls(sandbox) == {"teamjobs": 1}

    sandbox.set_status(alice_job, "COMPLETED WITH ERROR")
    sandbox.clear_requests()
    done = await step(watcher)
    assert kinds(done) == [(FINISHED, alice_job, "COMPLETED WITH ERROR")]
    assert [(r.endpoint, r.username) for r in sandbox.requests] == [
        ("teamjobs", "carol"),
        ("status", "alice"),
    ]


async def test_team_jobs_of_members_without_credentials_end_through_the_team_list(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    desktop = bobs_desktop(sandbox)
    watcher = Watcher(client, users(sandbox, "carol", team=True), clock=sandbox.now)
    await step(watcher)
    sandbox.set_status(desktop, "COMPLETED")
    sandbox.clear_requests()

    cycle = await step(watcher)
    assert kinds(cycle) == [(FINISHED, desktop, "COMPLETED")]
    assert cycle.events[0].owner == "bob"
    assert [(r.endpoint, r.params.get("completed")) for r in sandbox.requests] == [
        ("teamjobs", None),
        ("teamjobs", "true"),
    ]


async def test_a_team_watch_narrowed_to_one_member_ignores_the_others(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    narrowed = WatchedUser(caller_for(sandbox, "carol"), team=True, owners={"bob"})
    watcher = Watcher(client, StaticUsers((narrowed,)), clock=sandbox.now)
    await step(watcher)
    await submit(client, sandbox, "alice", "sleep 40")
    bobs = await submit(client, sandbox, "bob", "sleep 40")
    cycle = await step(watcher)
    assert kinds(cycle) == [(QUEUED, bobs, "SUBMITTED")]
    assert cycle.events[0].watchers == {"carol"}


async def test_a_user_who_is_not_a_team_admin_is_watched_alone(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    watcher = Watcher(client, users(sandbox, "alice", team=True), clock=sandbox.now)
    await step(watcher)
    assert calls(sandbox) == {"teamusers": 1, "jobs": 1, "jobs completed": 1}
    sandbox.clear_requests()
    await step(watcher)
    assert calls(sandbox) == {"jobs": 1}


async def test_when_jarvice_fails_the_poll_is_abandoned_and_the_next_waits_longer(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    watcher = Watcher(client, users(sandbox, "alice"), clock=sandbox.now)
    watcher.interval = 10.0
    await step(watcher)
    number = await submit(client, sandbox, "alice", "sleep 40")
    await step(watcher)
    before = watcher.state

    sandbox.set_status(number, "COMPLETED")
    sandbox.inject_fault("jobs", status=503, times=2)
    first = await step(watcher)
    delay_after_one = watcher.next_delay()
    second = await step(watcher)
    delay_after_two = watcher.next_delay()

    assert (first.healthy, second.healthy) == (False, False)
    assert first.events == second.events == ()
    assert watcher.state == before
    assert 10.0 <= delay_after_one <= 20.0
    assert 20.0 <= delay_after_two <= 40.0

    recovered = await step(watcher)
    assert kinds(recovered) == [(FINISHED, number, "COMPLETED")]
    assert watcher.next_delay() == 10.0


async def test_a_dropped_connection_or_broken_answer_also_backs_off(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    watcher = Watcher(client, users(sandbox, "alice"), clock=sandbox.now)
    await step(watcher)
    sandbox.inject_fault("jobs", drop=True)
    assert not (await step(watcher)).healthy
    sandbox.inject_fault("jobs", malformed=True)
    malformed = await step(watcher)
    assert malformed.failures[0].error_type == "MalformedResponse"
    assert (await step(watcher)).healthy


async def test_one_users_refused_key_does_not_hold_up_the_others(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    bad = Caller(credentials=Credentials(username="dave", apikey="not-the-key"))
    source = StaticUsers((WatchedUser(caller_for(sandbox, "alice")), WatchedUser(bad)))
    watcher = Watcher(client, source, clock=sandbox.now, interval=10.0)
    first = await step(watcher)
    assert [(f.username, f.error_type) for f in first.failures] == [
        ("dave", "Unauthorized")
    ]
    assert "not-the-key" not in first.failures[0].error
    number = await submit(client, sandbox, "alice", "sleep 40")

    cycle = await step(watcher)
    assert kinds(cycle) == [(QUEUED, number, "SUBMITTED")]
    assert calls(sandbox) == {"jobs": 1}
    assert watcher.next_delay() == 10.0

    sandbox.advance(21)
    sandbox.clear_requests()
    retried = await step(watcher)
    assert [r.username for r in sandbox.requests] == ["alice", "dave"]
    assert retried.failures[0].retry_at == sandbox.now() + 40


async def test_a_failed_status_call_keeps_the_job_until_it_is_answered(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    watcher = Watcher(client, users(sandbox, "alice"), clock=sandbox.now)
    await step(watcher)
    number = await submit(client, sandbox, "alice", "sleep 40")
    await step(watcher)
    sandbox.set_status(number, "COMPLETED")

    sandbox.inject_fault("status", status=503)
    assert kinds(await step(watcher)) == []
    assert number in watcher.state.jobs
    assert kinds(await step(watcher)) == [(FINISHED, number, "COMPLETED")]
    assert kinds(await step(watcher)) == []


async def test_an_unaccepted_cycle_is_found_again_by_the_next_poll(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    watcher = Watcher(client, users(sandbox, "alice"), clock=sandbox.now)
    await step(watcher)
    number = await submit(client, sandbox, "alice", "sleep 40")
    await step(watcher)
    sandbox.set_status(number, "CANCELED")

    lost = await watcher.poll()
    again = await watcher.poll()
    assert kinds(lost) == kinds(again) == [(FINISHED, number, "CANCELED")]


async def test_a_restored_state_reports_what_ended_while_nobody_watched(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    source = users(sandbox, "alice")
    watcher = Watcher(client, source, clock=sandbox.now)
    await step(watcher)
    number = await submit(client, sandbox, "alice", "sleep 10")
    await step(watcher)
    saved = WatchState.from_json(watcher.state.to_json())
    assert saved == watcher.state

    sandbox.advance(60)
    successor = Watcher(client, source, clock=sandbox.now, state=saved)
    assert kinds(await step(successor)) == [(FINISHED, number, "COMPLETED")]


async def test_run_adopts_a_cycle_only_when_it_was_recorded(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    watcher = Watcher(client, users(sandbox, "alice"), clock=sandbox.now, interval=1e-3)
    await step(watcher)
    number = await submit(client, sandbox, "alice", "sleep 40")
    seen: list[Cycle] = []

    async def record_then_fail_once(cycle: Cycle) -> None:
        seen.append(cycle)
        if len(seen) == 1:
            raise RuntimeError("database unavailable")

    await watcher.run(record_then_fail_once, cycles=3)
    assert [kinds(c) for c in seen] == [
        [(QUEUED, number, "SUBMITTED")],
        [(QUEUED, number, "SUBMITTED")],
        [],
    ]


def test_the_interval_and_concurrency_must_be_positive(sandbox: SandboxServer) -> None:
    client = JarviceClient(sandbox.url)
    with pytest.raises(ValueError, match="interval"):
        Watcher(client, users(sandbox, "alice"), interval=0)
    with pytest.raises(ValueError, match="concurrency"):
        Watcher(client, users(sandbox, "alice"), concurrency=0)


async def test_an_outage_during_parallel_calls_abandons_the_whole_poll(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    names = ("alice", "bob", "dave", "carol")
    watcher = Watcher(client, users(sandbox, *names), clock=sandbox.now, concurrency=4)
    await step(watcher)
    before = watcher.state
    number = await submit(client, sandbox, "bob", "sleep 40")
    sandbox.inject_fault("jobs", status=503)

    cycle = await step(watcher)
    assert (cycle.healthy, cycle.events) == (False, ())
    assert watcher.state == before
    assert kinds(await step(watcher)) == [(QUEUED, number, "SUBMITTED")]


async def test_added_sandbox_users_each_cost_one_list_call(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    names = [f"user{n:02d}" for n in range(6)]
    for name in names:
        sandbox.add_account(name)
    watcher = Watcher(client, users(sandbox, *names), clock=sandbox.now)
    await step(watcher)
    jobs = [await submit(client, sandbox, name, "sleep 40") for name in names]
    await step(watcher)
    sandbox.set_status(jobs[0], "COMPLETED")
    sandbox.clear_requests()

    cycle = await step(watcher)
    assert kinds(cycle) == [(FINISHED, jobs[0], "COMPLETED")]
    assert calls(sandbox) == {"jobs": 6, "jobs completed": 1, "status": 1}
    active = [r.username for r in sandbox.requests if r.endpoint == "jobs"]
    completed = [r for r in sandbox.requests if r.params.get("completed")]
    assert sorted(active) == sorted([*names, *(r.username for r in completed)])
    assert len(completed) == 1


async def test_a_team_admin_covers_members_added_to_the_sandbox(
    sandbox: SandboxServer, client: JarviceClient
) -> None:
    names = [f"member{n}" for n in range(3)]
    for name in names:
        sandbox.add_account(name, team="acme")
    source = StaticUsers(
        (
            WatchedUser(caller_for(sandbox, "carol"), team=True),
            *(WatchedUser(caller_for(sandbox, name)) for name in names),
        )
    )
    watcher = Watcher(client, source, clock=sandbox.now)
    await step(watcher)
    assert calls(sandbox) == {"teamusers": 1, "teamjobs": 1, "teamjobs completed": 1}
    number = await submit(client, sandbox, "member2", "sleep 40")
    cycle = await step(watcher)
    assert [(e.number, e.owner, e.watchers) for e in cycle.events] == [
        (number, "member2", {"member2", "carol"})
    ]
    assert calls(sandbox) == {"teamjobs": 1}
