"""Wire format: JSON layout, content types, credentials, methods."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from jarvice_tools.sandbox import SandboxServer

from .helpers import (
    appdef,
    batch_body,
    creds,
    error_of,
    get,
    http,
    job_numbers,
    post_json,
)

ALL_QUERY_ENDPOINTS = [
    "jobs",
    "teamjobs",
    "status",
    "metrics",
    "output",
    "screenshot",
    "tail",
    "connect",
    "info",
    "signal",
    "action",
    "shutdown",
    "terminate",
    "appdef",
    "teamusers",
    "machines",
    "vault",
    "projects",
    "billing",
    "audit",
    "queues",
    "history",
    "pull",
    "build",
]


def test_json_is_indented_by_four_spaces_without_trailing_newline(
    sandbox: SandboxServer,
) -> None:
    response = get(sandbox, "queues", "admin")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == json.dumps(response.json(), indent=4)
    assert not response.text.endswith("\n")


def test_live_and_ready_need_no_credentials(sandbox: SandboxServer) -> None:
    live = get(sandbox, "live", None)
    ready = get(sandbox, "ready", None)

    assert live.status_code == 200
    assert live.json() == {"status": "OK"}
    assert ready.json()["status"] == "OK"
    assert "version" in ready.json()


@pytest.mark.parametrize("endpoint", ALL_QUERY_ENDPOINTS)
def test_missing_credentials_are_a_400(sandbox: SandboxServer, endpoint: str) -> None:
    response = get(sandbox, endpoint, None, name="x", number=1)

    assert response.status_code == 400
    assert "missing" in error_of(response)


@pytest.mark.parametrize("endpoint", ALL_QUERY_ENDPOINTS)
def test_a_wrong_apikey_is_a_401(sandbox: SandboxServer, endpoint: str) -> None:
    response = http.get(
        f"{sandbox.url}/jarvice/{endpoint}",
        params={"username": "alice", "apikey": "0" * 40, "number": 1},
    )

    assert response.status_code == 401
    assert error_of(response) == "Unauthorized"


@pytest.mark.parametrize(
    "params",
    [{"username": "alice"}, {"apikey": "0" * 40}],
    ids=["no apikey", "no username"],
)
def test_half_credentials_are_a_400(
    sandbox: SandboxServer, params: dict[str, str]
) -> None:
    response = http.get(f"{sandbox.url}/jarvice/jobs", params=params)

    assert response.status_code == 400


def test_unknown_user_is_a_401(sandbox: SandboxServer) -> None:
    params = {"username": "mallory", "apikey": sandbox.account("alice").apikey}

    assert http.get(f"{sandbox.url}/jarvice/jobs", params=params).status_code == 401


def test_post_with_a_form_body_works_like_get(sandbox: SandboxServer) -> None:
    by_get = get(sandbox, "status", number=123001)
    by_form = http.post(
        f"{sandbox.url}/jarvice/status", data={**creds(sandbox), "number": "123001"}
    )

    assert by_form.status_code == 200
    assert by_form.json() == by_get.json()


def test_post_with_a_multipart_form_works_like_get(sandbox: SandboxServer) -> None:
    by_get = get(sandbox, "status", number=123001)
    by_form = http.post(
        f"{sandbox.url}/jarvice/status",
        data={**creds(sandbox), "number": "123001"},
        files={"attachment": ("notes.txt", b"ignored", "text/plain")},
    )

    assert by_form.status_code == 200, by_form.text
    assert by_form.json() == by_get.json()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"username=alice&number=\xff"),
        (None, b"username=alice&number=\xff"),
        (None, b"username=alice&number=%ff"),
        ("multipart/form-data; boundary=x", b"not multipart at all"),
    ],
)
def test_a_form_that_cannot_be_read_is_a_400(
    sandbox: SandboxServer, content_type: str | None, body: bytes
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post(f"{sandbox.url}/jarvice/status", content=body, headers=headers)

    assert response.status_code == 400
    assert "form body" in error_of(response)
    assert sandbox.requests[-1].endpoint == "status"


def test_post_with_query_parameters_works_like_get(sandbox: SandboxServer) -> None:
    response = http.post(
        f"{sandbox.url}/jarvice/status", params={**creds(sandbox), "number": "123001"}
    )

    assert response.status_code == 200
    assert "123001" in response.json()


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/x-www-form-urlencoded", "text/plain", None],
)
def test_batch_reads_json_whatever_the_content_type(
    sandbox: SandboxServer, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post(
        f"{sandbox.url}/jarvice/batch",
        content=json.dumps(batch_body(sandbox)),
        headers=headers,
    )

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"name", "number"}


@pytest.mark.parametrize("endpoint", ["submit", "batch", "validate"])
def test_json_body_endpoints_are_post_only(
    sandbox: SandboxServer, endpoint: str
) -> None:
    response = get(sandbox, endpoint)

    assert response.status_code == 405
    assert "POST" in error_of(response)


@pytest.mark.parametrize("endpoint", ["submit", "batch"])
def test_a_body_that_is_not_json_is_a_400(
    sandbox: SandboxServer, endpoint: str
) -> None:
    response = http.post(f"{sandbox.url}/jarvice/{endpoint}", content=b"username=alice")

    assert response.status_code == 400
    assert error_of(response).startswith("Missing or Malformed API Syntax")


@pytest.mark.parametrize(
    ("user", "status", "message"),
    [
        (None, 400, "User required: add user{username, apikey} to the body"),
        (
            {"username": "alice"},
            400,
            "User required: add user{username, apikey} to the body",
        ),
        ({"username": "alice", "apikey": "f" * 40}, 401, "Not Authorized"),
        ({"username": "nobody", "apikey": "f" * 40}, 401, "Not Authorized"),
    ],
)
@pytest.mark.parametrize("endpoint", ["batch", "submit"])
def test_submit_credentials_come_from_the_body(
    sandbox: SandboxServer,
    endpoint: str,
    user: dict[str, str] | None,
    status: int,
    message: str,
) -> None:
    body = batch_body(sandbox)
    del body["user"]
    if user is not None:
        body["user"] = user

    response = post_json(sandbox, endpoint, body)

    assert response.status_code == status
    assert error_of(response) == message


def test_unknown_endpoint_is_a_json_404(sandbox: SandboxServer) -> None:
    response = get(sandbox, "nonsense")

    assert response.status_code == 404
    assert error_of(response) == "Not Found"


def test_the_api_is_also_served_under_an_api_prefix(sandbox: SandboxServer) -> None:
    response = http.get(f"{sandbox.url}/api/jarvice/live")

    assert response.json() == {"status": "OK"}


def test_other_methods_are_refused(sandbox: SandboxServer) -> None:
    response = http.delete(f"{sandbox.url}/jarvice/jobs")

    assert response.status_code == 405


def _raw_post(server: SandboxServer, endpoint: str, text: str) -> httpx.Response:
    return http.post(f"{server.url}/jarvice/{endpoint}", content=text.encode())


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize(
    ("endpoint", "field"),
    [
        ("submit", '"threads": {}'),
        ("submit", '"ratio": {}'),
        ("batch", '"job_label": {}'),
        ("validate", '"step": {}'),
    ],
)
def test_a_body_with_a_number_json_does_not_allow_is_a_400(
    sandbox: SandboxServer, endpoint: str, field: str, number: str
) -> None:
    body = json.dumps(_body_with_a_marker(sandbox, endpoint))
    before = job_numbers(sandbox)

    response = _raw_post(
        sandbox, endpoint, body.replace('"MARK": 0', field.format(number))
    )

    assert response.status_code == 400
    assert "not valid JSON" in error_of(response)
    assert job_numbers(sandbox) == before
    listing = get(sandbox, "jobs")
    assert json.loads(listing.text, parse_constant=_refuse) == listing.json()


def _refuse(text: str) -> None:
    raise AssertionError(f"the sandbox wrote {text}")


def _body_with_a_marker(server: SandboxServer, endpoint: str) -> dict[str, Any]:
    """A valid body with a key "MARK": 0 where the tested field goes."""
    if endpoint == "batch":
        return {**batch_body(server), "MARK": 0}
    if endpoint == "validate":
        range_parameter = {"name": "R", "description": "r", "type": "RANGE", "MARK": 0}
        command = {"path": "/x", "name": "X", "description": "x", "parameters": {}}
        command["parameters"] = {"r": {**range_parameter, "min": 0, "max": 8}}
        return {**appdef(), "commands": {"x": command}}
    parameters = {"count": 8, "MARK": 0}
    return {
        "app": "jarvice-params",
        "application": {"command": "run", "parameters": parameters},
        "machine": {"type": "n1", "nodes": 1},
        "user": creds(server),
    }
