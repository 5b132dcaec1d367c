"""Job lifecycle on the manual clock, listings and per-job calls."""

from __future__ import annotations

import re

import pytest

from jarvice_tools.sandbox import SandboxServer

from .helpers import error_of, get, submit_batch

NAME = re.compile(r"^\d{14}-[A-Z0-9]{5}-jarvice-batch-alice_s1$")
STATUS_KEYS = [
    "job_name",
    "job_status",
    "job_substatus",
    "job_start_time",
    "job_end_time",
    "job_submit_time",
    "job_application",
    "job_command",
    "job_walltime",
    "job_project",
]


def status(server: SandboxServer, number: int) -> dict[str, object]:
    response = get(server, "status", number=number)
    assert response.status_code == 200, response.text
    entry: dict[str, object] = response.json()[str(number)]
    return entry


def test_a_batch_job_queues_runs_and_completes(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "sleep 20 && echo hello")
    queued = status(sandbox, number)

    sandbox.advance(5)
    running = status(sandbox, number)
    sandbox.advance(30)
    done = status(sandbox, number)

    assert list(queued) == STATUS_KEYS
    assert queued["job_status"] == "SUBMITTED"
    assert (queued["job_start_time"], queued["job_end_time"]) == (0, 0)
    assert queued["job_walltime"] is None
    assert running["job_status"] == "PROCESSING STARTING"
    assert running["job_start_time"] == queued["job_submit_time"] + 5  # type: ignore[operator]
    assert running["job_end_time"] == 0
    assert done["job_status"] == "COMPLETED"
    assert done["job_walltime"] == "00:00:22"
    assert done["job_end_time"] == running["job_start_time"] + 22  # type: ignore[operator]
    assert done["job_substatus"] == 0


def test_job_names_and_numbers_follow_jarvice(sandbox: SandboxServer) -> None:
    first = submit_batch(sandbox)
    second = submit_batch(sandbox)
    name = str(status(sandbox, first)["job_name"])

    assert second == first + 1
    assert first > 123000
    assert NAME.match(name)
    assert status(sandbox, first)["job_application"] == "jarvice-batch"
    assert status(sandbox, first)["job_command"] == "Batch"


def test_the_name_timestamp_is_the_utc_submit_time(sandbox: SandboxServer) -> None:
    from datetime import UTC, datetime

    entry = status(sandbox, submit_batch(sandbox))
    stamp = datetime.fromtimestamp(int(entry["job_submit_time"]), UTC)  # type: ignore[call-overload]

    assert str(entry["job_name"]).startswith(stamp.strftime("%Y%m%d%H%M%S"))


def test_status_by_name_matches_status_by_number(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox)
    name = status(sandbox, number)["job_name"]

    assert (
        get(sandbox, "status", name=name).json()
        == get(sandbox, "status", number=number).json()
    )


@pytest.mark.parametrize(
    ("script", "final", "exitcode", "walltime"),
    [
        ("hostname", "COMPLETED", 0, "00:00:03"),
        ("sleep 10 && exit 3", "COMPLETED WITH ERROR", 3, "00:00:12"),
        ("false && echo never", "COMPLETED WITH ERROR", 1, "00:00:03"),
        ("false || echo recovered", "COMPLETED", 0, "00:00:03"),
        ("false; true", "COMPLETED", 0, "00:00:03"),
        ("sleep 600", "COMPLETED", 0, "00:00:45"),
        ("nvidia-smi -L", "COMPLETED WITH ERROR", 9, "00:00:03"),
        ("mystery-tool --flag", "COMPLETED", 0, "00:00:03"),
        ("echo hi | grep h", "COMPLETED", 0, "00:00:03"),
        ("echo hi > /data/out.txt && sleep 5", "COMPLETED", 0, "00:00:07"),
        ("false > /dev/null", "COMPLETED WITH ERROR", 1, "00:00:03"),
        ("exit 300", "COMPLETED WITH ERROR", 44, "00:00:03"),
        ("exit -5", "COMPLETED WITH ERROR", 251, "00:00:03"),
        ("exit --5", "COMPLETED WITH ERROR", 2, "00:00:03"),
        ("exit \u00b2", "COMPLETED WITH ERROR", 2, "00:00:03"),
        ("exit 99999999999999999999", "COMPLETED WITH ERROR", 2, "00:00:03"),
        ("> /data/out.txt", "COMPLETED", 0, "00:00:03"),
        ("false; 2>/dev/null", "COMPLETED", 0, "00:00:03"),
    ],
)
def test_the_jobscript_decides_the_outcome(
    sandbox: SandboxServer, script: str, final: str, exitcode: int, walltime: str
) -> None:
    number = submit_batch(sandbox, script)
    sandbox.advance(60)

    entry = status(sandbox, number)
    assert entry["job_status"] == final
    assert entry["job_walltime"] == walltime
    assert sandbox.job(number).exitcode == exitcode


@pytest.mark.parametrize(
    ("script", "shown"),
    [
        ("exit --5", ["exit: --5: numeric argument required"]),
        ("echo error >&2", ["error"]),
        ("echo hi 2>&1", ["hi"]),
        ("echo hi 1>&2 2>/dev/null", ["hi"]),
        ("echo hidden >& /data/log; echo shown", ["shown"]),
        ("echo hidden &> /data/log; echo shown", ["shown"]),
        ("echo hidden 1> /data/log; echo shown", ["shown"]),
        ("echo 2 > /data/two; echo shown", ["shown"]),
        ("echo '2>&1' \"a > b\"", ["2>&1 a > b"]),
        ("> /data/out.txt; echo after", ["after"]),
        ("echo kept # a comment", ["kept"]),
    ],
)
def test_the_jobscript_output_follows_its_redirections(
    sandbox: SandboxServer, script: str, shown: list[str]
) -> None:
    number = submit_batch(sandbox, script)
    sandbox.advance(60)

    lines = get(sandbox, "output", number=number).text.splitlines()
    script_lines = lines[lines.index("INIT[1]: Starting job script...") + 1 :]
    assert [line for line in script_lines if "exited with status" not in line] == shown


def test_default_batch_jobs_finish_within_a_minute(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "sleep 100000")
    sandbox.advance(59)

    assert status(sandbox, number)["job_status"] == "COMPLETED"


def test_output_is_produced_line_by_line(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "echo one && sleep 10 && echo two && sleep 9")
    sandbox.advance(5 + 3)
    early = get(sandbox, "tail", number=number, lines=0).text
    sandbox.advance(10)
    later = get(sandbox, "tail", number=number, lines=0).text

    assert "one\n" in early
    assert "\ntwo\n" not in early
    assert later.endswith("one\ntwo\n")


def test_tail_is_for_running_jobs_and_output_for_completed_ones(
    sandbox: SandboxServer,
) -> None:
    number = submit_batch(sandbox, "echo hi && sleep 10")
    queued_tail = get(sandbox, "tail", number=number)
    sandbox.advance(8)
    running_output = get(sandbox, "output", number=number)
    running_tail = get(sandbox, "tail", number=number)
    sandbox.advance(30)
    done_tail = get(sandbox, "tail", number=number)
    done_output = get(sandbox, "output", number=number)

    assert queued_tail.status_code == 404
    assert error_of(queued_tail) == "Running job is not found"
    assert running_output.status_code == 404
    assert running_tail.status_code == 200
    assert running_tail.headers["content-type"] == "text/plain"
    assert done_tail.status_code == 404
    assert done_output.status_code == 200
    assert "hi\n" in done_output.text


@pytest.mark.parametrize(("lines", "expected"), [("2", 2), ("0", 11), (None, 11)])
def test_output_lines_tail_the_output(
    sandbox: SandboxServer, lines: str | None, expected: int
) -> None:
    number = submit_batch(sandbox, "; ".join(f"echo {i}" for i in range(5)))
    sandbox.advance(30)
    params = {"lines": lines} if lines else {}

    text = get(sandbox, "output", number=number, **params).text

    assert len(text.splitlines()) == expected
    assert text.endswith("4\n")


def test_negative_lines_are_a_400(sandbox: SandboxServer) -> None:
    assert get(sandbox, "output", number=123001, lines=-1).status_code == 400


def test_seeded_failed_job_shows_its_error(sandbox: SandboxServer) -> None:
    failed = [j for j in sandbox.jobs_of("alice") if j.status == "COMPLETED WITH ERROR"]

    text = get(sandbox, "output", number=failed[0].number).text

    assert "FileNotFoundError" in text
    assert failed[0].exitcode == 1


def test_metrics_are_404_for_the_first_30_seconds_then_itemized(
    sandbox: SandboxServer,
) -> None:
    body_extra = {"machine": {"type": "n1", "nodes": 3}}
    number = submit_batch(sandbox, "sleep 40", **body_extra)
    sandbox.advance(5 + 10)
    early = get(sandbox, "metrics", number=number)
    sandbox.advance(25)
    metrics = get(sandbox, "metrics", number=number).json()

    assert early.status_code == 404
    itemized, summary = metrics["itemized"], metrics["summary"]
    assert [len(itemized[k]) for k in ("cpu_used", "memory_used", "memory_total")] == [
        3
    ] * 3
    assert itemized["memory_total"] == [32 * 1024 * 1024] * 3
    assert summary["memory_total"] == 3 * 32 * 1024 * 1024
    assert summary["memory_used"] == sum(itemized["memory_used"])
    assert summary["cpu_used"] == round(sum(itemized["cpu_used"]) / 3)
    assert all(0 <= cpu <= 100 for cpu in itemized["cpu_used"])


def test_metrics_of_a_finished_job_are_404(sandbox: SandboxServer) -> None:
    assert get(sandbox, "metrics", number=123001).status_code == 404


def test_shutdown_needs_a_running_job_and_completes_it(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "sleep 40")
    queued = get(sandbox, "shutdown", number=number)
    sandbox.advance(10)
    accepted = get(sandbox, "shutdown", number=number)
    still_running = status(sandbox, number)["job_status"]
    sandbox.advance(2)
    done = status(sandbox, number)
    again = get(sandbox, "shutdown", number=number)

    assert queued.status_code == 404
    assert error_of(queued) == "Running job is not found"
    assert accepted.json() == {"status": "shutdown requested"}
    assert still_running == "PROCESSING STARTING"
    assert done["job_status"] == "COMPLETED"
    assert done["job_walltime"] == "00:00:07"
    assert again.status_code == 404


@pytest.mark.parametrize("wait", [0, 10], ids=["queued", "running"])
def test_terminate_works_in_any_active_state(sandbox: SandboxServer, wait: int) -> None:
    number = submit_batch(sandbox, "sleep 40")
    sandbox.advance(wait)

    response = get(sandbox, "terminate", number=number)

    assert response.json() == {"status": "terminated"}
    entry = status(sandbox, number)
    assert entry["job_status"] == "TERMINATED"
    assert entry["job_end_time"] != 0
    assert entry["job_walltime"] == ("00:00:00" if wait == 0 else "00:00:05")


def test_terminate_of_a_finished_job_is_a_404(sandbox: SandboxServer) -> None:
    response = get(sandbox, "terminate", number=123001)

    assert response.status_code == 404


def test_signal_20_suspends_and_18_resumes(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "sleep 20")
    sandbox.advance(10)

    stopped = get(sandbox, "signal", number=number)
    suspended = get(sandbox, "jobs").json()[str(number)]
    sandbox.advance(100)
    paused_status = status(sandbox, number)
    resumed = get(sandbox, "signal", number=number, signal=18)
    running = get(sandbox, "jobs").json()[str(number)]
    sandbox.advance(20)

    assert stopped.json()["signal"] == 20
    assert isinstance(stopped.json()["pid"], int)
    assert suspended["job_substatus_text"] == "Suspended by user"
    assert suspended["job_substatus"] != 0
    assert paused_status["job_status"] == "PROCESSING STARTING"
    assert resumed.json()["signal"] == 18
    assert (running["job_substatus"], running["job_substatus_text"]) == (0, "")
    assert status(sandbox, number)["job_status"] == "COMPLETED"


@pytest.mark.parametrize("value", ["0", "65", "TERM"])
def test_a_bad_signal_is_a_400(sandbox: SandboxServer, value: str) -> None:
    assert get(sandbox, "signal", number=123001, signal=value).status_code == 400


def test_signal_needs_a_running_job(sandbox: SandboxServer) -> None:
    assert get(sandbox, "signal", number=123001).status_code == 404


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("status", "Job not found"),
        ("output", "Job not found"),
        ("tail", "Job not found"),
        ("terminate", "Not found"),
        ("shutdown", "Not found"),
        ("signal", "Not found"),
    ],
)
def test_another_users_job_is_not_found(
    sandbox: SandboxServer, endpoint: str, message: str
) -> None:
    bob_job = sandbox.jobs_of("bob")[0].number

    response = get(sandbox, endpoint, number=bob_job)

    assert response.status_code == 404
    assert error_of(response) == message


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, 400),
        ({"number": "abc"}, 400),
        ({"number": "999999"}, 404),
        ({"name": "no-such-job"}, 404),
    ],
)
def test_job_lookup_errors(
    sandbox: SandboxServer, params: dict[str, str], code: int
) -> None:
    assert get(sandbox, "status", **params).status_code == code


def test_jobs_lists_active_jobs_and_completed_true_only_finished_ones(
    sandbox: SandboxServer,
) -> None:
    number = submit_batch(sandbox)
    active = get(sandbox, "jobs").json()
    finished = get(sandbox, "jobs", completed="true").json()
    not_exact = get(sandbox, "jobs", completed="True").json()

    assert list(active) == [str(number)]
    assert not_exact == active
    assert {e["job_status"] for e in finished.values()} == {
        "COMPLETED",
        "COMPLETED WITH ERROR",
        "TERMINATED",
    }
    assert all(e["job_owner_username"] == "alice" for e in finished.values())


def test_job_entries_carry_the_jobentry_fields(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, job_label="my-label")
    entry = get(sandbox, "jobs").json()[str(number)]

    for key in (
        "job_number",
        "job_label",
        "job_substatus_text",
        "job_owner_username",
        "job_nodes",
        "job_mc_name",
        "job_mc_scale",
        "job_api_submission",
        "job_exitcode",
        "job_payer",
        "job_price",
        "job_stats",
    ):
        assert key in entry
    assert entry["job_number"] == number
    assert entry["job_label"] == "my-label"
    assert (entry["job_mc_name"], entry["job_mc_scale"]) == ("n0", 1)
    assert entry["job_api_submission"]["user"] == {"username": "alice"}
    assert entry["job_exitcode"] is None
    assert entry["job_payer"] == "carol"


def test_teamjobs_covers_the_team_for_its_admin_only(sandbox: SandboxServer) -> None:
    alice_job = submit_batch(sandbox)

    carol = get(sandbox, "teamjobs", "carol").json()
    alice = get(sandbox, "teamjobs", "alice").json()
    dave = get(sandbox, "teamjobs", "dave").json()

    assert {e["job_owner_username"] for e in carol.values()} == {"alice", "bob"}
    assert list(alice) == [str(alice_job)]
    assert dave == {}


def test_teamjobs_completed_for_the_team_admin(sandbox: SandboxServer) -> None:
    finished = get(sandbox, "teamjobs", "carol", completed="true").json()

    assert {e["job_owner_username"] for e in finished.values()} == {
        "alice",
        "bob",
        "carol",
    }


def test_single_project_users_get_their_project(sandbox: SandboxServer) -> None:
    from .helpers import batch_body, post_json

    bob = post_json(sandbox, "batch", batch_body(sandbox, username="bob")).json()
    chosen = post_json(
        sandbox, "batch", batch_body(sandbox, job_project="carol-vision")
    ).json()

    assert (
        get(sandbox, "status", "bob", number=bob["number"]).json()[str(bob["number"])][
            "job_project"
        ]
        == "carol-research"
    )
    assert status(sandbox, chosen["number"])["job_project"] == "carol-vision"
    assert status(sandbox, submit_batch(sandbox))["job_project"] is None
    assert {j.project for j in sandbox.jobs_of("bob")} == {"carol-research"}
    assert {j.project for j in sandbox.jobs_of("dave")} == {"dave-sandbox"}


def test_an_application_walltime_terminates_the_job(sandbox: SandboxServer) -> None:
    from .helpers import creds, post_json

    def desktop(walltime: str | None) -> int:
        application = {
            "command": "Desktop",
            **({"walltime": walltime} if walltime else {}),
        }
        body = {
            "app": "jarvice-desktop",
            "application": application,
            "machine": {"type": "n1"},
            "user": creds(sandbox),
        }
        number: int = post_json(sandbox, "submit", body).json()["number"]
        return number

    limited, unlimited = desktop("00:10:00"), desktop(None)
    sandbox.advance(5 + 3600)

    assert status(sandbox, limited)["job_status"] == "TERMINATED"
    assert status(sandbox, limited)["job_walltime"] == "00:10:00"
    assert "wall time" in get(sandbox, "output", number=limited).text
    assert status(sandbox, unlimited)["job_status"] == "PROCESSING STARTING"


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"label": "train"}, 1),
        ({"label": "train", "exactmatch": "True"}, 0),
        ({"label": "train-model", "exactmatch": "True", "completed": "true"}, 1),
        ({"label": "train", "all": "True"}, 3),
        ({"all": "True"}, 5),
    ],
)
def test_jobs_label_and_all_filters(
    sandbox: SandboxServer, params: dict[str, str], count: int
) -> None:
    submit_batch(sandbox, job_label="train-again")
    submit_batch(sandbox)

    jobs = get(sandbox, "jobs", **params).json()

    assert len(jobs) == count


def test_redirected_and_piped_output_is_not_shown(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "echo hidden > /tmp/x; echo a | tr a b; echo shown")
    sandbox.advance(60)

    text = get(sandbox, "output", number=number).text

    assert "hidden" not in text
    assert "tr a b" not in text
    assert text.endswith("shown\n")
