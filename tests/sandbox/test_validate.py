"""/jarvice/validate applies the AppDef rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jarvice_tools.sandbox import SandboxServer

from .helpers import appdef, creds, error_of, get, http, post_json


def test_a_valid_appdef_is_exactly_21_bytes_of_json(sandbox: SandboxServer) -> None:
    response = post_json(sandbox, "validate", appdef())

    assert response.status_code == 200
    assert response.content == b'{\n    "valid": true\n}'


def test_validate_reads_json_sent_as_a_form(sandbox: SandboxServer) -> None:
    import json

    response = http.post(
        f"{sandbox.url}/jarvice/validate",
        content=json.dumps(appdef()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.json() == {"valid": True}


def test_the_seeded_appdefs_are_valid(sandbox: SandboxServer) -> None:
    for name in get(sandbox, "apps", version=2).json():
        definition = get(sandbox, "appdef", name=name).json()
        assert post_json(sandbox, "validate", definition).json() == {"valid": True}


def _with(path: str, value: Any) -> dict[str, Any]:
    """appdef() with the dotted path set (or deleted when value is ...)."""
    result = copy.deepcopy(appdef())
    *parents, last = path.split(".")
    node = result
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return result


INT_PAR = "commands.run.parameters.n"


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("name", ..., "missing required key 'name'"),
        ("licensed", "no", "licensed: must be a boolean"),
        ("machines", "n*", "machines: must be a list"),
        ("vault-types", ["DISK"], "invalid vault type 'DISK'"),
        ("image", {"type": "image/png"}, "image.data"),
        ("commands", {}, "at least one command"),
        ("commands.run.path", ..., "missing required key 'path'"),
        ("commands.run.parameters", [], "parameters: must be an object"),
        ("commands.run.ports", ["80"], "ports"),
        ("commands.run.walltime", "1 hour", "HH:MM:SS"),
        ("commands.run.interactive", "yes", "boolean"),
        ("appdefversion", 3, "appdefversion"),
        ("identity", {"uid": 0, "gid": 0}, "root"),
        (INT_PAR + ".type", "NUMBER", "invalid type 'NUMBER'"),
        (INT_PAR + ".value", 9, "outside min..max"),
        (INT_PAR + ".min", 5, "min is greater than max"),
        (INT_PAR + ".min", 1.5, "must be an integer"),
        (INT_PAR + ".name", ..., "missing required key 'name'"),
        (INT_PAR, {"name": "s", "description": "s", "type": "selection"}, "values"),
        (
            INT_PAR,
            {
                "name": "s",
                "description": "s",
                "type": "selection",
                "values": ["a", "b"],
                "mvalues": ["x"],
            },
            "mvalues",
        ),
        (INT_PAR, {"name": "u", "description": "u", "type": "UPLOAD"}, "target"),
        (
            INT_PAR,
            {"name": "r", "description": "r", "type": "RANGE", "min": 0, "max": 9},
            "RANGE needs 'step'",
        ),
        (
            INT_PAR,
            {"name": "b", "description": "b", "type": "BOOL", "value": 1},
            "boolean",
        ),
        (INT_PAR, {"name": "c", "description": "c", "type": "CONST"}, "CONST"),
        (
            INT_PAR,
            {"name": "f", "description": "f", "type": "FLOAT", "precision": -1},
            "precision",
        ),
    ],
)
def test_invalid_appdefs_are_a_400_with_a_message(
    sandbox: SandboxServer, path: str, value: Any, words: str
) -> None:
    response = post_json(sandbox, "validate", _with(path, value))

    assert response.status_code == 400
    assert words in error_of(response)


def test_only_one_upload_per_command(sandbox: SandboxServer) -> None:
    upload = {"name": "u", "description": "u", "type": "UPLOAD", "target": "/tmp/u"}
    definition = _with("commands.run.parameters.a", upload)
    definition["commands"]["run"]["parameters"]["b"] = upload

    response = post_json(sandbox, "validate", definition)

    assert response.status_code == 400
    assert "only one UPLOAD" in error_of(response)


def test_version_2_keys_need_appdefversion_2(sandbox: SandboxServer) -> None:
    v1 = _with("commands.run.webshell", True)
    v1["appdefversion"] = 1
    v2 = _with("commands.run.webshell", True)
    v2["appdefversion"] = 2

    assert post_json(sandbox, "validate", v1).status_code == 400
    assert post_json(sandbox, "validate", v2).status_code == 200


def test_if_must_name_bool_parameters(sandbox: SandboxServer) -> None:
    good = _with(INT_PAR + ".if", ["flag"])
    good["commands"]["run"]["parameters"]["flag"] = {
        "name": "F",
        "description": "f",
        "type": "BOOL",
        "value": False,
    }
    bad = _with(INT_PAR + ".if", ["n"])

    assert post_json(sandbox, "validate", good).status_code == 200
    assert post_json(sandbox, "validate", bad).status_code == 400


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"AppDef"'])
def test_bodies_that_are_not_an_appdef_object(
    sandbox: SandboxServer, body: bytes
) -> None:
    response = http.post(f"{sandbox.url}/jarvice/validate", content=body)

    assert response.status_code == 400


def test_validate_checks_credentials_when_given(sandbox: SandboxServer) -> None:
    good = http.post(
        f"{sandbox.url}/jarvice/validate", params=creds(sandbox), json=appdef()
    )
    bad = http.post(
        f"{sandbox.url}/jarvice/validate",
        params={"username": "alice", "apikey": "0" * 40},
        json=appdef(),
    )

    assert good.status_code == 200
    assert bad.status_code == 401
