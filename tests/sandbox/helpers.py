"""Small helpers for calling the sandbox with raw httpx."""

from __future__ import annotations

import atexit
import json
from typing import Any

import httpx

from jarvice_tools.sandbox import SandboxServer

# One client for all tests: a new httpx client per call costs ~30 ms.
http = httpx.Client(timeout=10)
atexit.register(http.close)


def creds(server: SandboxServer, username: str = "alice") -> dict[str, str]:
    return {"username": username, "apikey": server.account(username).apikey}


def get(
    server: SandboxServer, endpoint: str, username: str | None = "alice", **params: Any
) -> httpx.Response:
    query = {**(creds(server, username) if username else {}), **params}
    return http.get(f"{server.url}/jarvice/{endpoint}", params=query)


def post_json(
    server: SandboxServer, endpoint: str, body: Any, **headers: str
) -> httpx.Response:
    return http.post(
        f"{server.url}/jarvice/{endpoint}",
        content=json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )


def batch_body(
    server: SandboxServer,
    script: str = "hostname",
    username: str = "alice",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "container": {"image": "library/ubuntu:jammy", "jobscript": script},
        "machine": {"type": "n0", "nodes": 1},
        "user": creds(server, username),
        **extra,
    }


def submit_batch(server: SandboxServer, script: str = "hostname", **extra: Any) -> int:
    response = post_json(server, "batch", batch_body(server, script, **extra))
    assert response.status_code == 200, response.text
    number = response.json()["number"]
    assert isinstance(number, int)
    return number


def submit_app(
    server: SandboxServer,
    app: str,
    command: str,
    parameters: dict[str, Any] | None = None,
    *,
    username: str = "alice",
    machine: str = "n1",
    **extra: Any,
) -> httpx.Response:
    body = {
        "app": app,
        "application": {"command": command, "parameters": parameters or {}},
        "machine": {"type": machine, "nodes": 1},
        "user": creds(server, username),
        **extra,
    }
    return post_json(server, "submit", body)


def status_of(
    server: SandboxServer, number: int, username: str = "alice"
) -> dict[str, Any]:
    response = get(server, "status", username, number=number)
    assert response.status_code == 200, response.text
    entry: dict[str, Any] = response.json()[str(number)]
    return entry


def error_of(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/json"
    message: str = response.json()["error"]
    return message


def job_numbers(server: SandboxServer) -> list[int]:
    """Every job in the sandbox, of every account."""
    return sorted(
        job.number
        for account in server.accounts
        for job in server.jobs_of(account.username)
    )


def appdef() -> dict[str, Any]:
    """A small valid AppDef: one command with one INT parameter."""
    return {
        "name": "Demo",
        "description": "A demo application.",
        "author": "Someone",
        "licensed": False,
        "classifications": ["Uncategorized"],
        "image": {"type": "image/png", "data": "iVBORw0KGgo="},
        "machines": ["n*"],
        "vault-types": ["FILE", "OBJECT"],
        "commands": {
            "run": {
                "path": "/bin/run",
                "name": "Run",
                "description": "Run it.",
                "parameters": {
                    "n": {
                        "name": "N",
                        "description": "n",
                        "type": "INT",
                        "value": 2,
                        "min": 1,
                        "max": 4,
                    },
                },
            }
        },
    }
