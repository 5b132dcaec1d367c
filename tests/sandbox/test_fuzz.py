"""Type substitutions everywhere: the sandbox answers 4xx, never 500, and a
refused submission leaves no job behind."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from jarvice_tools.sandbox import SandboxServer

from .helpers import batch_body, creds, get, http, job_numbers, post_json

Path = tuple[str | int, ...]
MISSING = object()
SUBSTITUTES: list[Any] = [
    MISSING,
    None,
    True,
    0,
    1.5,
    10**400,
    "",
    "x",
    [],
    {},
    [["x"]],
]
QUERY_SUBSTITUTES = ["", "x", "-1", "1.5", "1e999", "nan", "9" * 30, "\x00", "\u0661"]
QUERY_PARAMETERS: dict[str, list[str]] = {
    "jobs": ["completed", "all", "label", "exactmatch"],
    "teamjobs": ["completed"],
    "status": ["name", "number"],
    "metrics": ["name", "number"],
    "output": ["name", "number", "lines"],
    "tail": ["name", "number", "lines"],
    "screenshot": ["name", "number", "width", "height", "emphatic"],
    "connect": ["name", "number"],
    "info": ["name", "number"],
    "signal": ["name", "number", "signal"],
    "action": ["name", "number", "action"],
    "apps": ["name", "version"],
    "appdef": ["name"],
    "teamusers": [],
    "machines": ["name", "vault"],
    "vault": ["vault", "path", "details", "sort"],
    "projects": [],
    "billing": [
        "reportuser",
        "billingcode",
        "statuses",
        "machtypes",
        "jobapp",
        "itemized",
        "timeperiod",
        "startdate",
        "enddate",
    ],
    "audit": ["quser", "category", "resource", "lines"],
    "queues": ["name", "info"],
    "history": ["target", "limit", "reltime"],
    "pull": ["target", "repo"],
    "build": ["target", "pull", "abort"],
    "shutdown": ["name", "number"],
    "terminate": ["name", "number"],
    "live": [],
    "ready": [],
}
ADMIN_ENDPOINTS = {"billing", "audit", "projects", "queues"}


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every place in a JSON value, the containers' places before their own."""
    if isinstance(value, dict):
        items: list[tuple[str | int, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def substituted(body: Any, path: Path, new: Any) -> Any:
    changed = copy.deepcopy(body)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    if new is MISSING and isinstance(parent, dict):
        del parent[path[-1]]
    elif new is MISSING:
        parent.pop(path[-1])
    else:
        parent[path[-1]] = new
    return changed


def full_submit(server: SandboxServer) -> dict[str, Any]:
    parameters = {
        "mode": "--showcase",
        "title": "t",
        "count": 8,
        "ratio": 0.25,
        "threads": 6,
        "verbose": True,
        "solver": "GMRES",
        "input": "/data/x.csv",
        "config": "a: 1",
    }
    return {
        "app": "jarvice-params",
        "application": {
            "command": "run",
            "geometry": "1280x800",
            "walltime": "01:00:00",
            "parameters": parameters,
        },
        "machine": {"type": "n1", "nodes": 1},
        "vault": {"name": "alice-home", "readonly": False, "force": False},
        "job_label": "fuzz",
        "job_project": "carol-research",
        "job_priority": "normal",
        "queue": "default",
        "user": creds(server),
    }


def full_batch(server: SandboxServer) -> dict[str, Any]:
    body = batch_body(server, "echo hi > /data/out.txt; exit 3")
    extra = {k: v for k, v in full_submit(server).items() if k not in ("app", "user")}
    del extra["application"]
    return {**body, **extra}


def full_appdef(server: SandboxServer) -> dict[str, Any]:
    appdef: dict[str, Any] = get(server, "appdef", name="jarvice-params").json()
    command = appdef["commands"]["run"]
    command.update({"ports": ["8080/tcp"], "walltime": "01:00:00", "webshell": True})
    command["parameters"]["title"]["if"] = ["verbose"]
    appdef.update({"appdefversion": 2, "identity": {"uid": 1000, "gid": 1000}})
    appdef["scale_max"] = 4
    appdef["hints"] = ["gpu"]
    return appdef


BODIES = {"batch": full_batch, "submit": full_submit, "validate": full_appdef}


def _label(value: Any) -> str:
    return "MISSING" if value is MISSING else json.dumps(value)[:20]


@pytest.mark.parametrize("endpoint", list(BODIES))
def test_the_full_bodies_are_accepted(sandbox: SandboxServer, endpoint: str) -> None:
    response = post_json(sandbox, endpoint, BODIES[endpoint](sandbox))

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("new", SUBSTITUTES, ids=_label)
@pytest.mark.parametrize("endpoint", list(BODIES))
def test_any_field_of_any_type_is_never_a_500_nor_a_ghost_job(
    sandbox: SandboxServer, endpoint: str, new: Any
) -> None:
    body = BODIES[endpoint](sandbox)
    next_number = max(job_numbers(sandbox)) + 1
    problems: list[str] = []
    for path in paths(body):
        response = post_json(sandbox, endpoint, substituted(body, path, new))
        where = f"{endpoint} {'.'.join(map(str, path))}={_label(new)}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code} {response.text}")
        elif response.status_code >= 400 and _exists(sandbox, next_number):
            problems.append(f"{where}: {response.status_code} but a job was added")
        elif response.status_code == 200 and endpoint != "validate":
            next_number = response.json()["number"] + 1

    assert problems == []


def _exists(server: SandboxServer, number: int) -> bool:
    try:
        server.job(number)
    except KeyError:
        return False
    return True


def _query_base(server: SandboxServer, endpoint: str) -> dict[str, str]:
    user = "admin" if endpoint in ADMIN_ENDPOINTS else "alice"
    desktop = {
        "app": "jarvice-desktop",
        "application": {"command": "Desktop"},
        "machine": {"type": "n1"},
        "user": creds(server),
    }
    number = post_json(server, "submit", desktop).json()["number"]
    server.advance(40)
    return {
        **creds(server, user),
        "number": str(number),
        "lines": "5",
        "width": "100",
        "signal": "10",
        "action": "clear-cache",
        "vault": "alice-home",
        "path": "/",
        "timeperiod": "range",
        "startdate": "2024-01-01",
        "enddate": "2024-12-31",
        "target": "alice-myapp",
        "repo": "docker.io/alice/myapp:2",
        "name": "jarvice-params" if endpoint in ("apps", "appdef") else "",
    }


@pytest.mark.parametrize("endpoint", list(QUERY_PARAMETERS))
def test_any_query_parameter_value_is_never_a_500(
    sandbox: SandboxServer, endpoint: str
) -> None:
    base = _query_base(sandbox, endpoint)
    problems: list[str] = []
    for name in ["username", "apikey", *QUERY_PARAMETERS[endpoint]]:
        for value in QUERY_SUBSTITUTES:
            params = {**base, name: value}
            response = http.get(f"{sandbox.url}/jarvice/{endpoint}", params=params)
            if response.status_code >= 500:
                problems.append(f"{endpoint}?{name}={value!r}: {response.text}")
        bare = http.get(f"{sandbox.url}/jarvice/{endpoint}?{name}&number=%FF%FE")
        if bare.status_code >= 500:
            problems.append(f"{endpoint}?{name} (bare): {bare.text}")

    assert problems == []


@pytest.mark.parametrize("depth", [65, 200_000])
@pytest.mark.parametrize("endpoint", list(BODIES))
def test_a_body_nested_too_deeply_is_a_400(
    sandbox: SandboxServer, endpoint: str, depth: int
) -> None:
    body = json.dumps(BODIES[endpoint](sandbox))[:-1] + ', "deep": '
    body += "[" * depth + "]" * depth + "}"
    before = job_numbers(sandbox)

    response = http.post(f"{sandbox.url}/jarvice/{endpoint}", content=body.encode())

    assert response.status_code == 400
    assert "nested more than 64 levels" in response.json()["error"]
    assert job_numbers(sandbox) == before
    assert sandbox.requests[-1].body is None


def test_a_control_body_nested_too_deeply_is_a_400(sandbox: SandboxServer) -> None:
    deep = "[" * 200_000 + "]" * 200_000

    response = http.post(
        f"{sandbox.url}/_sandbox/clock/advance", content=f'{{"seconds": {deep}}}'
    )

    assert response.status_code == 400
