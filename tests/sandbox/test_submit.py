"""submit and batch: what they accept and what they refuse."""

from __future__ import annotations

from typing import Any

import pytest

from jarvice_tools.sandbox import SandboxServer, _submit
from jarvice_tools.sandbox._world import World

from .helpers import (
    batch_body,
    creds,
    error_of,
    get,
    job_numbers,
    post_json,
    submit_app,
)

GOOD = {"count": 8, "verbose": True, "solver": "GMRES", "threads": 6}


def submit_body(server: SandboxServer) -> dict[str, Any]:
    return {
        "app": "jarvice-params",
        "application": {"command": "run", "parameters": GOOD},
        "machine": {"type": "n1", "nodes": 1},
        "user": creds(server),
    }


@pytest.mark.parametrize(
    "image",
    [
        "library/ubuntu:jammy",
        "nvidia/cuda:12.4.0-base-ubuntu22.04",
        "docker.io/library/alpine:3",
        "us-docker.pkg.dev/proj/repo/img:1",
    ],
)
def test_batch_accepts_qualified_images(sandbox: SandboxServer, image: str) -> None:
    body = batch_body(sandbox)
    body["container"]["image"] = image

    assert post_json(sandbox, "batch", body).status_code == 200


@pytest.mark.parametrize("image", ["ubuntu:jammy", "ubuntu", "docker.io/ubuntu", ""])
def test_batch_refuses_official_images_without_library(
    sandbox: SandboxServer, image: str
) -> None:
    body = batch_body(sandbox)
    body["container"]["image"] = image

    response = post_json(sandbox, "batch", body)

    assert response.status_code == 400
    assert error_of(response) == "Invalid container in request"


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"machine": {"type": "n99"}}, 400, "Invalid machine type"),
        ({"machine": {"type": "n0", "nodes": 2}}, 400, "1 to 1 nodes"),
        ({"machine": {"type": "n5", "nodes": 1}}, 400, "2 to 32 nodes"),
        ({"machine": {"type": "n1", "nodes": 0}}, 400, "nodes"),
        ({"machine": {"type": "n1", "nodes": "2"}}, 400, "nodes"),
        ({"machine": {}}, 400, "machine.type"),
        ({"vault": {"name": "bob-home"}}, 400, "unknown vault"),
        (
            {"vault": {"name": "acme-shared"}, "machine": {"type": "ng4"}},
            400,
            "cannot mount",
        ),
        ({"job_priority": "urgent"}, 400, "job_priority"),
        ({"job_priority": "high"}, 401, "payers and team admins"),
        ({"job_project": "dave-sandbox"}, 400, "job_project"),
        ({"queue": "nope"}, 400, "Queue"),
        ({"container": {"image": "library/ubuntu:jammy"}}, 400, "jobscript"),
        ({"container": "library/ubuntu"}, 400, "Invalid container"),
    ],
)
def test_batch_validation(
    sandbox: SandboxServer, change: dict[str, Any], code: int, words: str
) -> None:
    response = post_json(sandbox, "batch", {**batch_body(sandbox), **change})

    assert response.status_code == code
    assert words in error_of(response)


@pytest.mark.parametrize("priority", ["normal", "high", "highest"])
def test_team_admins_may_set_a_priority(sandbox: SandboxServer, priority: str) -> None:
    body = batch_body(sandbox, username="carol", job_priority=priority)

    assert post_json(sandbox, "batch", body).status_code == 200


def test_users_may_ask_for_normal_priority(sandbox: SandboxServer) -> None:
    body = batch_body(sandbox, job_priority="normal")

    assert post_json(sandbox, "batch", body).status_code == 200


def test_nodes_default_to_one_and_vault_to_the_users(sandbox: SandboxServer) -> None:
    body = batch_body(sandbox)
    body["machine"] = {"type": "n3"}

    number = post_json(sandbox, "batch", body).json()["number"]

    assert sandbox.job(number).nodes == 1
    assert get(sandbox, "jobs").json()[str(number)]["job_mc_scale"] == 1


def test_submit_runs_an_app_command(sandbox: SandboxServer) -> None:
    response = submit_app(sandbox, "jarvice-ubuntu", "Batch", {"command": "echo hi"})
    number = response.json()["number"]
    sandbox.advance(30)

    entry = get(sandbox, "status", number=number).json()[str(number)]
    assert entry["job_application"] == "jarvice-ubuntu"
    assert entry["job_command"] == "Batch"
    assert entry["job_name"].endswith("-jarvice-ubuntu-alice_s1")
    assert entry["job_status"] == "COMPLETED"
    assert "hi\n" in get(sandbox, "output", number=number).text


def test_submit_echoes_every_parameter_type(sandbox: SandboxServer) -> None:
    parameters = {
        **GOOD,
        "title": "t",
        "ratio": 0.25,
        "input": "/data/x.csv",
        "config": "a: 1",
        "mode": "--showcase",
    }
    response = submit_app(sandbox, "jarvice-params", "run", parameters)
    number = response.json()["number"]
    sandbox.advance(30)

    text = get(sandbox, "output", number=number).text
    assert "solver = GMRES" in text
    assert "count = 8" in text
    assert "Showcase complete." in text


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"verbose": True}, "missing required parameter 'count'"),
        ({**GOOD, "count": 0}, "between 1 and 64"),
        ({**GOOD, "count": 2.5}, "integer"),
        ({**GOOD, "count": "many"}, "integer"),
        ({**GOOD, "ratio": 1.5}, "between"),
        ({**GOOD, "threads": 5}, "multiple of 2"),
        ({**GOOD, "verbose": "yes"}, "boolean"),
        ({**GOOD, "solver": "magic"}, "one of"),
        ({**GOOD, "input": "/data/x.txt"}, "*.csv|*.dat"),
        ({**GOOD, "config": "x" * 70000}, "larger than"),
        ({**GOOD, "mode": "--other"}, "CONST"),
        ({**GOOD, "title": 5}, "string"),
        ({**GOOD, "colour": "red"}, "unknown parameter"),
    ],
)
def test_submit_checks_parameters_against_the_appdef(
    sandbox: SandboxServer, parameters: dict[str, Any], words: str
) -> None:
    response = submit_app(sandbox, "jarvice-params", "run", parameters)

    assert response.status_code == 400
    assert words in error_of(response)


@pytest.mark.parametrize(("solver"), ["GMRES", "gmres"])
def test_selection_accepts_values_and_mvalues(
    sandbox: SandboxServer, solver: str
) -> None:
    response = submit_app(sandbox, "jarvice-params", "run", {**GOOD, "solver": solver})

    assert response.status_code == 200


def test_numbers_may_come_as_strings(sandbox: SandboxServer) -> None:
    parameters = {**GOOD, "count": "12", "ratio": "0.5"}

    assert submit_app(sandbox, "jarvice-params", "run", parameters).status_code == 200


@pytest.mark.parametrize(
    ("app", "command", "username", "code", "words"),
    [
        ("no-such-app", "run", "alice", 404, "Application Not Found"),
        ("alice-myapp", "Run", "bob", 404, "Application Not Found"),
        ("jarvice-params", "fly", "alice", 400, "Invalid command"),
        ("jarvice-params", "", "alice", 400, "application.command"),
    ],
)
def test_submit_refuses_unknown_apps_and_commands(
    sandbox: SandboxServer, app: str, command: str, username: str, code: int, words: str
) -> None:
    response = submit_app(sandbox, app, command, GOOD, username=username)

    assert response.status_code == code
    assert words in error_of(response)


def test_submit_refuses_a_machine_the_app_does_not_allow(
    sandbox: SandboxServer,
) -> None:
    response = submit_app(sandbox, "jarvice-params", "run", GOOD, machine="ng4")

    assert response.status_code == 400
    assert "not allowed" in error_of(response)


def test_owners_can_submit_their_private_app(sandbox: SandboxServer) -> None:
    response = submit_app(sandbox, "alice-myapp", "Run", {"input": "/data/in.txt"})

    assert response.status_code == 200
    assert response.json()["name"].endswith("-alice-myapp-alice_s1")


def test_missing_app_is_malformed(sandbox: SandboxServer) -> None:
    body = {
        "application": {"command": "run"},
        "machine": {"type": "n0"},
        "user": creds(sandbox),
    }

    response = post_json(sandbox, "submit", body)

    assert response.status_code == 400
    assert error_of(response).startswith("Missing or Malformed API Syntax")


def test_the_stored_submission_has_no_apikey(sandbox: SandboxServer) -> None:
    response = submit_app(sandbox, "jarvice-params", "run", GOOD)
    number = response.json()["number"]

    stored = get(sandbox, "jobs").json()[str(number)]["job_api_submission"]

    assert stored["user"] == {"username": "alice"}
    assert sandbox.account("alice").apikey not in response.text
    assert "apikey" not in str(sandbox.job(number).submission)


def _planning_fails(job: object) -> None:
    raise RuntimeError("planning failed")


@pytest.mark.parametrize("endpoint", ["batch", "submit"])
def test_a_submission_that_fails_while_planning_leaves_no_job(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    before = job_numbers(sandbox)
    body = batch_body(sandbox) if endpoint == "batch" else submit_body(sandbox)
    with monkeypatch.context() as patch:
        patch.setattr(_submit, "plan_script", _planning_fails)
        patch.setattr(World, "plan_for", lambda self, *args: _planning_fails(args))
        failed = post_json(sandbox, endpoint, body)
    after_failure = job_numbers(sandbox)
    first = post_json(sandbox, endpoint, body).json()

    sandbox.reset()
    expected = post_json(sandbox, endpoint, body).json()
    assert failed.status_code == 500
    assert after_failure == before
    assert first == expected  # same number and name: the failure used up nothing
