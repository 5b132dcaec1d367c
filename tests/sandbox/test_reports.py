"""billing, audit, history, pull and build."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from jarvice_tools.sandbox import SandboxServer

from .helpers import error_of, get, submit_batch


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_billing_is_a_csv_summary_with_a_total_row(sandbox: SandboxServer) -> None:
    response = get(sandbox, "billing", "admin", timeperiod="last")

    assert response.headers["content-type"] == "text/csv"
    assert response.text.splitlines()[0] == (
        "user,payer,jobs,compute_hours,compute_cost,app_cost,total_cost"
    )
    table = rows(response.text)
    assert [r["user"] for r in table] == ["alice", "bob", "carol", "dave", "admin", "@"]
    assert all(r["jobs"] == "1" for r in table[:-1])
    assert table[-1]["jobs"] == "5"


def test_billing_itemized_lists_jobs(sandbox: SandboxServer) -> None:
    text = get(
        sandbox,
        "billing",
        "admin",
        itemized="true",
        reportuser="alice,dave",
        timeperiod="last",
    ).text

    table = rows(text)
    assert {r["user"] for r in table} == {"alice", "dave"}
    assert table[0]["status"] == "COMPLETED"
    assert float(table[0]["compute_cost"]) > 0


def test_billing_filters(sandbox: SandboxServer) -> None:
    submit_batch(sandbox)
    current = rows(get(sandbox, "billing", "admin", itemized="true").text)
    errors = rows(
        get(
            sandbox,
            "billing",
            "admin",
            itemized="true",
            statuses="COMPLETED WITH ERROR",
        ).text
    )
    n3 = rows(get(sandbox, "billing", "admin", itemized="true", machtypes="n3").text)
    batch = rows(
        get(sandbox, "billing", "admin", itemized="true", jobapp="jarvice-ubuntu").text
    )

    assert {r["status"] for r in errors} == {"COMPLETED WITH ERROR"}
    assert {r["machine_type"] for r in n3} == {"n3"}
    assert {r["application"] for r in batch} == {"jarvice-ubuntu"}
    assert len(current) > len(errors)


def test_billing_for_a_payer_covers_the_team(sandbox: SandboxServer) -> None:
    table = rows(get(sandbox, "billing", "admin", reportuser="carol").text)

    assert [r["user"] for r in table] == ["alice", "bob", "carol", "@"]


def test_billing_for_a_payer_that_is_not_a_login_covers_the_team(
    sandbox: SandboxServer,
) -> None:
    table = rows(get(sandbox, "billing", "admin", reportuser="globex-billing").text)

    assert [r["user"] for r in table] == ["dave", "@"]


def test_a_team_admin_gets_billing_for_the_team_only(sandbox: SandboxServer) -> None:
    table = rows(get(sandbox, "billing", "carol", reportuser="dave,alice").text)

    assert [r["user"] for r in table] == ["alice", "@"]


def test_billing_by_date_range(sandbox: SandboxServer) -> None:
    today = datetime.fromtimestamp(sandbox.now(), UTC).strftime("%Y-%m-%d")

    table = rows(
        get(
            sandbox,
            "billing",
            "admin",
            timeperiod="range",
            itemized="true",
            startdate=today,
            enddate=today,
        ).text
    )

    assert table
    assert all(r["submit_time"].startswith(today) for r in table)


@pytest.mark.parametrize(
    "params",
    [
        {"timeperiod": "range"},
        {"timeperiod": "range", "startdate": "2025-01-01"},
        {"timeperiod": "range", "startdate": "2025-13-01", "enddate": "2025-12-31"},
        {"timeperiod": "range", "startdate": "2025-02-01", "enddate": "2025-01-01"},
        {"timeperiod": "yesterday"},
        {"statuses": "COMPLETED,RUNNING"},
        {"machtypes": "n99"},
        {"itemized": "maybe"},
    ],
)
def test_billing_parameter_errors(
    sandbox: SandboxServer, params: dict[str, str]
) -> None:
    assert get(sandbox, "billing", "admin", **params).status_code == 400


@pytest.mark.parametrize(
    "status",
    [
        "COMPLETED",
        "COMPLETED WITH ERROR",
        "SUBMITTED",
        "PROCESSING STARTING",
        "CANCELED",
        "EXEMPT",
        "SEQUENTIALLY QUEUED",
        "TERMINATED",
    ],
)
def test_billing_accepts_the_eight_statuses(
    sandbox: SandboxServer, status: str
) -> None:
    assert get(sandbox, "billing", "admin", statuses=status).status_code == 200


def test_audit_is_text_with_one_event_per_line(sandbox: SandboxServer) -> None:
    response = get(sandbox, "audit", "admin")

    assert response.headers["content-type"] == "text/plain"
    lines = response.text.splitlines()
    assert len(lines) > 10
    assert all(line.count(" | ") == 4 for line in lines)


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"quser": "root"}, " | root | "),
        ({"category": "team"}, " | team | "),
        ({"resource": "alice-myapp"}, " | alice-myapp | "),
    ],
)
def test_audit_filters(
    sandbox: SandboxServer, params: dict[str, str], check: str
) -> None:
    lines = get(sandbox, "audit", "admin", **params).text.splitlines()

    assert lines
    assert all(check in line for line in lines)


def test_audit_lines_and_categories(sandbox: SandboxServer) -> None:
    assert len(get(sandbox, "audit", "admin", lines=3).text.splitlines()) == 3
    assert get(sandbox, "audit", "admin", category="jobs").status_code == 400


def test_submit_shutdown_and_terminate_are_audited(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "sleep 30")
    sandbox.advance(10)
    get(sandbox, "shutdown", number=number)
    other = submit_batch(sandbox)
    get(sandbox, "terminate", number=other)

    text = get(sandbox, "audit", "admin", category="job", quser="alice").text

    assert f" | {number} | API submit of " in text
    assert f" | {number} | API shutdown" in text
    assert f" | {other} | API terminate" in text


def test_history_is_newest_first_and_relative_by_default(
    sandbox: SandboxServer,
) -> None:
    lines = get(sandbox, "history", target="alice-myapp").text.splitlines()
    absolute = get(sandbox, "history", target="alice-myapp", reltime="false").text

    assert lines[0] == "23 hours ago: Build of alice-myapp completed"
    assert lines[-1] == "7 days ago: Pull of docker.io/alice/myapp:1.0 started"
    assert absolute.splitlines()[0].endswith(" UTC: Build of alice-myapp completed")
    assert (
        len(get(sandbox, "history", target="alice-myapp", limit=2).text.splitlines())
        == 2
    )


@pytest.mark.parametrize(
    ("target", "username"), [("nothing", "alice"), ("alice-myapp", "bob")]
)
def test_history_is_blank_for_unknown_targets(
    sandbox: SandboxServer, target: str, username: str
) -> None:
    response = get(sandbox, "history", username, target=target)

    assert response.status_code == 200
    assert response.text == ""


def test_pull_is_scheduled_and_appears_in_history(sandbox: SandboxServer) -> None:
    response = get(
        sandbox, "pull", repo="docker.io/alice/myapp:2.0", target="alice-myapp"
    )
    started = get(sandbox, "history", target="alice-myapp").text.splitlines()[0]
    sandbox.advance(40)
    done = get(sandbox, "history", target="alice-myapp").text.splitlines()[0]

    assert response.json() == {"status": "Pull successfully scheduled"}
    assert started == "just now: Pull of docker.io/alice/myapp:2.0 started"
    assert done == "10 seconds ago: Pull of docker.io/alice/myapp:2.0 completed"
    assert "dockerpull" in get(sandbox, "audit", "admin", category="dockerpull").text


@pytest.mark.parametrize(
    ("params", "username"),
    [
        ({"repo": "x/y"}, "alice"),
        ({"target": "alice-myapp"}, "alice"),
        ({"repo": "x/y", "target": "alice-myapp"}, "bob"),
        ({"repo": "x/y", "target": "jarvice-ubuntu"}, "alice"),
    ],
)
def test_pull_errors(
    sandbox: SandboxServer, params: dict[str, str], username: str
) -> None:
    assert get(sandbox, "pull", username, **params).status_code == 400


def test_build_refuses_while_running_and_can_be_aborted(sandbox: SandboxServer) -> None:
    first = get(sandbox, "build", target="alice-myapp")
    second = get(sandbox, "build", target="alice-myapp")
    aborted = get(sandbox, "build", target="alice-myapp", abort="true")
    nothing_to_abort = get(sandbox, "build", target="alice-myapp", abort="true")
    third = get(sandbox, "build", target="alice-myapp", pull="true")
    sandbox.advance(100)
    history = get(sandbox, "history", target="alice-myapp").text.splitlines()

    assert first.json() == {"status": "Build successfully scheduled"}
    assert second.status_code == 400
    assert "already running" in error_of(second)
    assert aborted.json() == {"status": "Build aborted"}
    assert nothing_to_abort.status_code == 400
    assert third.status_code == 200
    assert history[0].endswith("Pull of docker.io/alice/myapp:latest completed")
    assert history[2].endswith("Build of alice-myapp completed")
    assert any(line.endswith("Build of alice-myapp aborted") for line in history)


def test_admins_may_build_any_app(sandbox: SandboxServer) -> None:
    assert get(sandbox, "build", "admin", target="alice-myapp").status_code == 200
