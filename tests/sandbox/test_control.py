"""Test control: faults, forced statuses, the request log, the HTTP surface."""

from __future__ import annotations

import time

import httpx
import pytest

from jarvice_tools.sandbox import SandboxServer

from .helpers import (
    batch_body,
    creds,
    error_of,
    get,
    http,
    post_json,
    submit_app,
    submit_batch,
)


@pytest.mark.parametrize(
    ("code", "message"), [(503, "Service Unavailable"), (429, "Too Many Requests")]
)
def test_a_status_fault_replies_with_that_code(
    sandbox: SandboxServer, code: int, message: str
) -> None:
    sandbox.inject_fault("status", status=code)

    faulted = get(sandbox, "status", number=123001)
    normal = get(sandbox, "status", number=123001)

    assert faulted.status_code == code
    assert error_of(faulted) == message
    assert normal.status_code == 200


def test_a_fault_body_is_sent_as_given(sandbox: SandboxServer) -> None:
    sandbox.inject_fault(
        "jobs", status=429, body='{"error": "Only one active job allowed per VM"}'
    )
    sandbox.inject_fault("machines", status=502, body="<html>Bad gateway</html>")

    as_json = get(sandbox, "jobs")
    as_text = get(sandbox, "machines")

    assert error_of(as_json) == "Only one active job allowed per VM"
    assert as_text.headers["content-type"] == "text/plain"
    assert as_text.text == "<html>Bad gateway</html>"


def test_a_malformed_fault_is_a_200_with_broken_json(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("apps", malformed=True)

    response = get(sandbox, "apps")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        response.json()


def test_a_drop_fault_closes_the_connection(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("terminate", drop=True)

    with pytest.raises(httpx.RemoteProtocolError):
        get(sandbox, "terminate", number=123001)
    assert get(sandbox, "live", None).status_code == 200


def test_a_delay_fault_waits_then_answers_normally(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("queues", delay=0.3)

    started = time.perf_counter()
    response = get(sandbox, "queues", "admin")

    assert time.perf_counter() - started >= 0.3
    assert response.status_code == 200


def test_a_delay_fault_times_out_a_client(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("queues", delay=1.0)

    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{sandbox.url}/jarvice/queues", params=creds(sandbox), timeout=0.2)


def test_times_counts_matching_requests_only(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("status", status=503, times=2)

    codes = [get(sandbox, "jobs").status_code]
    codes += [get(sandbox, "status", number=123001).status_code for _ in range(3)]

    assert codes == [200, 503, 503, 200]


def test_a_star_fault_matches_any_endpoint(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("*", status=503, times=2)

    assert get(sandbox, "jobs").status_code == 503
    assert get(sandbox, "apps").status_code == 503
    assert get(sandbox, "apps").status_code == 200


def test_faults_apply_in_the_order_given(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("jobs", status=503)
    sandbox.inject_fault("jobs", status=429)

    assert [get(sandbox, "jobs").status_code for _ in range(3)] == [503, 429, 200]


def test_a_faulted_request_has_no_effect(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("batch", drop=True)

    with pytest.raises(httpx.RemoteProtocolError):
        post_json(sandbox, "batch", batch_body(sandbox))

    assert get(sandbox, "jobs").json() == {}


def test_an_after_fault_changes_state_but_loses_the_reply(
    sandbox: SandboxServer,
) -> None:
    sandbox.inject_fault("batch", drop=True, after=True)

    with pytest.raises(httpx.RemoteProtocolError):
        post_json(sandbox, "batch", batch_body(sandbox))

    assert len(get(sandbox, "jobs").json()) == 1


def test_clear_faults(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("*", status=500, times=10)
    sandbox.clear_faults()

    assert get(sandbox, "jobs").status_code == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"status": 503, "drop": True},
        {"body": "x"},
        {"status": 700},
        {"status": 503, "times": 0},
        {"status": 503, "times": 1.5},
        {"status": 503, "times": True},
        {"status": True},
        {"status": 503, "body": 5},
        {"delay": -1.0},
        {"delay": float("nan")},
        {"delay": "1"},
        {"drop": "yes"},
    ],
)
def test_nonsense_faults_are_refused(
    sandbox: SandboxServer, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match=r"fault|status|delay|times|body|drop"):
        sandbox.inject_fault("jobs", **kwargs)  # type: ignore[arg-type]

    assert control(sandbox, "GET", "faults").json() == {"faults": []}


@pytest.mark.parametrize("endpoint", ["stauts", "", "/jarvice/jobs", "events"])
def test_a_fault_for_an_unknown_endpoint_is_refused(
    sandbox: SandboxServer, endpoint: str
) -> None:
    with pytest.raises(ValueError, match="unknown endpoint"):
        sandbox.inject_fault(endpoint, status=503)

    refused = control(sandbox, "POST", "faults", endpoint=endpoint, status=503)
    assert refused.status_code == 400
    assert "unknown endpoint" in error_of(refused)


def test_a_fault_body_may_be_a_json_object(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("jobs", status=429, body={"error": "Slow down"})
    added = control(
        sandbox, "POST", "faults", endpoint="status", status=503, body=["busy"]
    )

    assert added.status_code == 200
    assert error_of(get(sandbox, "jobs")) == "Slow down"
    assert get(sandbox, "status", number=123001).json() == ["busy"]


@pytest.mark.parametrize("times", [1.5, "2", -1, True])
def test_http_fault_times_must_be_a_positive_integer(
    sandbox: SandboxServer, times: object
) -> None:
    refused = control(
        sandbox, "POST", "faults", endpoint="jobs", status=503, times=times
    )

    assert refused.status_code == 400
    assert get(sandbox, "jobs").status_code == 200


def test_latency_delays_every_reply() -> None:
    with SandboxServer(clock="manual", latency=0.2) as server:
        started = time.perf_counter()
        get(server, "live", None)
        assert time.perf_counter() - started >= 0.2


@pytest.mark.parametrize(
    ("status", "substatus"),
    [
        ("COMPLETED WITH ERROR", None),
        ("CANCELED", None),
        ("TERMINATED", None),
        ("COMPLETED", None),
        ("EXEMPT", 3),
        ("SEQUENTIALLY QUEUED", None),
    ],
)
def test_set_status_forces_a_status_now(
    sandbox: SandboxServer, status: str, substatus: int | None
) -> None:
    number = submit_batch(sandbox, "sleep 30")
    sandbox.advance(10)

    sandbox.set_status(number, status, substatus)
    sandbox.advance(100)
    entry = get(sandbox, "status", number=number).json()[str(number)]

    assert entry["job_status"] == status
    assert entry["job_substatus"] == (substatus or 0)
    final = status.startswith(("COMPLETED", "CANCELED", "TERMINATED"))
    assert (entry["job_walltime"] is not None) == final
    assert (entry["job_end_time"] != 0) == final


def test_a_forced_running_job_runs_on(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "sleep 10")
    sandbox.set_status(number, "SEQUENTIALLY QUEUED")
    sandbox.advance(100)
    held = sandbox.job(number).status

    sandbox.set_status(number, "PROCESSING STARTING")
    sandbox.advance(13)

    assert held == "SEQUENTIALLY QUEUED"
    assert sandbox.job(number).status == "COMPLETED"
    assert sandbox.job(number).walltime == "00:00:12"


@pytest.mark.parametrize(
    ("script", "forced", "exitcode"),
    [
        ("sleep 10", "CANCELED", -9),
        ("sleep 10", "COMPLETED WITH ERROR", 1),
        ("exit 3", "COMPLETED WITH ERROR", 3),
        ("exit 3", "COMPLETED", 0),
        ("sleep 10", "TERMINATED", -15),
    ],
)
def test_set_status_at_the_end_decides_how_the_job_ends(
    sandbox: SandboxServer, script: str, forced: str, exitcode: int
) -> None:
    number = submit_batch(sandbox, script)

    sandbox.set_status(number, forced, when="end")
    sandbox.advance(6)
    running = sandbox.job(number)
    sandbox.advance(60)

    assert running.status == "PROCESSING STARTING"
    assert (sandbox.job(number).status, sandbox.job(number).exitcode) == (
        forced,
        exitcode,
    )


def test_set_status_at_the_end_applies_to_a_shutdown(sandbox: SandboxServer) -> None:
    response = submit_app(sandbox, "jarvice-desktop", "Desktop")
    number = response.json()["number"]
    sandbox.advance(10)

    forced = control(
        sandbox, "POST", f"jobs/{number}/status", status="CANCELED", when="end"
    )
    get(sandbox, "shutdown", number=number)
    sandbox.advance(5)

    assert forced.status_code == 200
    assert sandbox.job(number).status == "CANCELED"


@pytest.mark.parametrize(
    ("status", "substatus", "when"),
    [
        ("PROCESSING STARTING", None, "end"),
        ("COMPLETED", 3, "end"),
        ("COMPLETED", None, "later"),
    ],
)
def test_set_status_at_the_end_needs_a_final_status(
    sandbox: SandboxServer, status: str, substatus: int | None, when: str
) -> None:
    number = submit_batch(sandbox)

    with pytest.raises(ValueError, match="when"):
        sandbox.set_status(number, status, substatus, when=when)  # type: ignore[arg-type]

    assert sandbox.job(number).status == "SUBMITTED"


def test_set_status_at_the_end_of_an_ended_job_is_refused(
    sandbox: SandboxServer,
) -> None:
    with pytest.raises(ValueError, match="already ended"):
        sandbox.set_status(123001, "CANCELED", when="end")


def test_set_status_errors(sandbox: SandboxServer) -> None:
    with pytest.raises(KeyError):
        sandbox.set_status(1, "COMPLETED")
    with pytest.raises(ValueError, match="unknown status"):
        sandbox.set_status(123001, "RUNNING")


def test_requests_are_logged_without_apikeys(sandbox: SandboxServer) -> None:
    apikey = sandbox.account("alice").apikey
    get(sandbox, "status", number=123001)
    http.post(
        f"{sandbox.url}/jarvice/tail", data={**creds(sandbox), "number": "123001"}
    )
    post_json(sandbox, "batch", batch_body(sandbox))

    logged = sandbox.requests

    assert [r.endpoint for r in logged] == ["status", "tail", "batch"]
    assert logged[0].params == {"username": "alice", "number": "123001"}
    assert logged[0].method == "GET"
    assert logged[1].method == "POST"
    assert logged[1].content_type == "application/x-www-form-urlencoded"
    assert logged[2].body["user"] == {"username": "alice"}
    assert all(r.username == "alice" for r in logged)
    assert apikey not in repr(logged)
    sandbox.clear_requests()
    assert sandbox.requests == []


def test_requests_record_the_sandbox_time(sandbox: SandboxServer) -> None:
    sandbox.advance(42)
    get(sandbox, "live", None)

    assert sandbox.requests[0].time == sandbox.now()


def test_the_server_logs_no_apikey(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="jarvice_tools.sandbox")
    get(sandbox, "status", number=123001)
    post_json(sandbox, "batch", batch_body(sandbox))

    ours = [
        r.getMessage() for r in caplog.records if r.name.startswith("jarvice_tools")
    ]
    assert any("/jarvice/status" in line for line in ours)
    assert not any(sandbox.account("alice").apikey in line for line in ours)


def test_reset_restores_the_seeded_world(sandbox: SandboxServer) -> None:
    start = sandbox.now()
    submit_batch(sandbox)
    sandbox.advance(100)
    sandbox.inject_fault("jobs", status=503)

    sandbox.reset()

    assert sandbox.now() == start
    assert get(sandbox, "jobs").json() == {}
    assert len(sandbox.requests) == 1


def test_jobs_of_and_job_give_snapshots(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "echo hi")
    sandbox.advance(30)

    view = sandbox.job(number)

    assert view.owner == "alice"
    assert view.status == "COMPLETED"
    assert "hi" in view.output
    assert number in [j.number for j in sandbox.jobs_of("alice")]
    assert all(j.owner == "bob" for j in sandbox.jobs_of("bob"))


# -- the HTTP control surface --------------------------------------------------


def control(
    server: SandboxServer, method: str, path: str, **body: object
) -> httpx.Response:
    return http.request(method, f"{server.url}/_sandbox/{path}", json=body or None)


def test_http_clock_advance(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox)
    before = sandbox.now()

    response = control(sandbox, "POST", "clock/advance", seconds=30)

    assert response.json() == {"now": before + 30}
    assert sandbox.job(number).status == "COMPLETED"
    assert control(sandbox, "POST", "clock/advance", seconds="x").status_code == 400
    assert control(sandbox, "POST", "clock/advance", seconds=-1).status_code == 400
    assert control(sandbox, "GET", "clock").json()["mode"] == "manual"


@pytest.mark.parametrize(
    "seconds", ["1e999", "NaN", "Infinity", "1e300", str(10**400), "-1"]
)
def test_the_clock_refuses_a_step_it_cannot_take(
    sandbox: SandboxServer, seconds: str
) -> None:
    before = sandbox.now()

    response = http.post(
        f"{sandbox.url}/_sandbox/clock/advance",
        content=f'{{"seconds": {seconds}}}',
    )

    assert response.status_code == 400
    assert sandbox.now() == before
    assert get(sandbox, "jobs").status_code == 200
    assert post_json(sandbox, "batch", batch_body(sandbox)).status_code == 200


@pytest.mark.parametrize("seconds", [float("inf"), float("nan"), 1e300, -1.0])
def test_advance_refuses_a_step_it_cannot_take(
    sandbox: SandboxServer, seconds: float
) -> None:
    with pytest.raises(ValueError, match=r"seconds|year 9999"):
        sandbox.advance(seconds)


def test_http_job_status(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox)

    response = control(sandbox, "POST", f"jobs/{number}/status", status="CANCELED")

    assert response.json()["status"] == "CANCELED"
    assert control(sandbox, "GET", f"jobs/{number}").json()["status"] == "CANCELED"
    assert (
        control(sandbox, "POST", "jobs/1/status", status="CANCELED").status_code == 404
    )
    assert (
        control(sandbox, "POST", f"jobs/{number}/status", status="X").status_code == 400
    )


def test_http_faults(sandbox: SandboxServer) -> None:
    added = control(sandbox, "POST", "faults", endpoint="jobs", status=503, times=2)

    assert added.json()["faults"][0]["times"] == 2
    assert get(sandbox, "jobs").status_code == 503
    assert control(sandbox, "DELETE", "faults").json() == {"faults": []}
    assert get(sandbox, "jobs").status_code == 200
    assert control(sandbox, "POST", "faults", endpoint="jobs").status_code == 400
    assert (
        control(sandbox, "POST", "faults", endpoint="jobs", colour=1).status_code == 400
    )


def test_http_requests_and_reset(sandbox: SandboxServer) -> None:
    get(sandbox, "status", number=123001)

    logged = control(sandbox, "GET", "requests").json()
    cleared = control(sandbox, "DELETE", "requests").json()
    reset = control(sandbox, "POST", "reset")

    assert logged[0]["endpoint"] == "status"
    assert "apikey" not in logged[0]["params"]
    assert cleared == []
    assert reset.status_code == 200
    assert len(control(sandbox, "GET", "accounts").json()) == 5


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "clock/advance"),
        ("POST", "jobs/123001/status"),
        ("POST", "faults"),
        ("DELETE", "faults"),
        ("GET", "requests"),
        ("DELETE", "requests"),
        ("POST", "reset"),
    ],
)
def test_the_control_surface_is_absent_without_control(method: str, path: str) -> None:
    with SandboxServer(clock="manual") as server:
        response = control(server, method, path, seconds=1)

        assert response.status_code == 404
        assert server.now() == server.now()
        assert "apikey" not in response.text


def test_control_paths_are_not_jarvice_endpoints(sandbox: SandboxServer) -> None:
    assert get(sandbox, "_sandbox").status_code == 404
