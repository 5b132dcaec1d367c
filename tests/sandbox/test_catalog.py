"""Catalogue endpoints: apps, appdef, machines, queues, vault, teamusers,
projects, and who may call the admin ones."""

from __future__ import annotations

import pytest

from jarvice_tools.sandbox import SandboxServer

from .helpers import error_of, get, http

PUBLIC_V1 = {"jarvice-ubuntu", "jarvice-desktop", "jarvice-params"}


def test_apps_lists_public_apps_and_the_callers_own(sandbox: SandboxServer) -> None:
    alice = get(sandbox, "apps").json()
    bob = get(sandbox, "apps", "bob").json()

    assert set(alice) == PUBLIC_V1 | {"alice-myapp"}
    assert set(bob) == PUBLIC_V1
    entry = alice["jarvice-ubuntu"]
    assert entry["id"] == "jarvice-ubuntu"
    assert entry["data"]["name"] == "Ubuntu Linux"
    assert isinstance(entry["price"], float)
    assert alice["alice-myapp"]["repo"] == "docker.io/alice/myapp:latest"


def test_apps_version_2_adds_appdef_version_2_apps(sandbox: SandboxServer) -> None:
    apps = get(sandbox, "apps", version=2).json()

    assert "jarvice-jupyter" in apps
    assert get(sandbox, "apps", version="x").status_code == 400


def test_apps_by_name(sandbox: SandboxServer) -> None:
    assert list(get(sandbox, "apps", name="jarvice-params").json()) == [
        "jarvice-params"
    ]
    assert get(sandbox, "apps", name="nothing").json() == {}


def test_apps_without_credentials_lists_public_apps(sandbox: SandboxServer) -> None:
    response = http.get(f"{sandbox.url}/jarvice/apps")

    assert set(response.json()) == PUBLIC_V1


def test_appdef_returns_the_raw_appdef(sandbox: SandboxServer) -> None:
    appdef = get(sandbox, "appdef", name="jarvice-params").json()
    parameters = appdef["commands"]["run"]["parameters"]

    kinds = {p["type"] for p in parameters.values()}
    assert kinds == {
        "CONST",
        "STR",
        "INT",
        "FLOAT",
        "RANGE",
        "BOOL",
        "selection",
        "FILE",
        "UPLOAD",
    }


@pytest.mark.parametrize(
    ("params", "username", "code"),
    [
        ({}, "alice", 400),
        ({"name": "nope"}, "alice", 404),
        ({"name": "alice-myapp"}, "bob", 404),
    ],
)
def test_appdef_errors(
    sandbox: SandboxServer, params: dict[str, str], username: str, code: int
) -> None:
    assert get(sandbox, "appdef", username, **params).status_code == code


def test_machines_have_realistic_fields(sandbox: SandboxServer) -> None:
    machines = get(sandbox, "machines").json()

    assert {"n0", "n1", "n3", "ng4"} <= set(machines)
    ng4 = machines["ng4"]
    assert ng4["mc_gpus"] == 1
    assert isinstance(ng4["mc_ram"], int)
    assert isinstance(ng4["mc_price"], float)
    assert ng4["mc_scale_min"] <= ng4["mc_scale_max"]


def test_machines_by_name_and_by_vault(sandbox: SandboxServer) -> None:
    assert list(get(sandbox, "machines", name="n3").json()) == ["n3"]
    assert "ng4" not in get(sandbox, "machines", vault="acme-shared").json()
    assert get(sandbox, "machines", vault="nope").status_code == 400


def test_queues_are_a_list_or_with_info_a_dict(sandbox: SandboxServer) -> None:
    names = get(sandbox, "queues", "admin").json()
    info = get(sandbox, "queues", "admin", info="true").json()

    assert names == ["default", "gpu", "interactive"]
    assert info["gpu"] == {
        "name": "gpu",
        "app": "jarvice-ubuntu",
        "machine": "ng4",
        "size": 8,
    }
    assert get(sandbox, "queues", "admin", name="gpu").json() == ["gpu"]
    missing = get(sandbox, "queues", "admin", name="nope")
    assert missing.status_code == 404
    assert error_of(missing) == "Queue not found"


def test_a_queue_size_fits_its_machine(sandbox: SandboxServer) -> None:
    queues = get(sandbox, "queues", "admin", info="true").json()
    machines = get(sandbox, "machines", "admin").json()

    for queue in queues.values():
        machine = machines[queue["machine"]]
        assert machine["mc_scale_min"] <= queue["size"] <= machine["mc_scale_max"]


def test_vault_lists_a_directory(sandbox: SandboxServer) -> None:
    listing = get(sandbox, "vault", vault="alice-home", path="/").json()

    assert [row[0] for row in listing] == [
        "README.md",
        "data/",
        "notes.txt",
        "results/",
        "scripts/",
    ]
    assert all(row[1:] == [0, 0] for row in listing)


def test_vault_details_and_subdirectories(sandbox: SandboxServer) -> None:
    listing = get(
        sandbox, "vault", vault="alice-home", path="data", details="true"
    ).json()

    assert [row[0] for row in listing] == ["images/", "test.csv", "train.csv"]
    assert listing[2][1] == 5_242_880
    assert all(row[2] > 0 for row in listing)
    assert (
        get(sandbox, "vault", vault="alice-home", path="/data/images/").status_code
        == 200
    )


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("n", "README.md"),
        ("N", "scripts/"),
        ("s", "notes.txt"),
        ("S", "scripts/"),
        ("m", "README.md"),
        ("M", "results/"),
    ],
)
def test_vault_sorting(sandbox: SandboxServer, sort: str, first: str) -> None:
    listing = get(
        sandbox, "vault", vault="alice-home", path="/", details="true", sort=sort
    ).json()

    assert listing[0][0] == first


@pytest.mark.parametrize(
    "params",
    [
        {"vault": "alice-home", "path": "/", "sort": "s"},
        {"vault": "alice-home", "path": "/", "sort": "x", "details": "true"},
        {"vault": "alice-home", "path": "/nowhere"},
        {"vault": "alice-home", "path": "/README.md"},
        {"vault": "bob-home", "path": "/"},
        {"vault": "alice-home"},
        {"path": "/"},
    ],
)
def test_vault_errors(sandbox: SandboxServer, params: dict[str, str]) -> None:
    assert get(sandbox, "vault", **params).status_code == 400


def test_team_vault_and_ephemeral_vault(sandbox: SandboxServer) -> None:
    shared = get(sandbox, "vault", "bob", vault="acme-shared", path="/").json()

    assert [row[0] for row in shared] == ["datasets/", "shared-notes.md"]
    assert get(sandbox, "vault", vault="ephemeral", path="/").json() == []


def test_teamusers_lists_the_team_without_the_caller(sandbox: SandboxServer) -> None:
    users = get(sandbox, "teamusers", "carol").json()

    assert users == {
        "alice": {"email": "alice@acme.example", "name": "Alice Anders"},
        "bob": {"email": "bob@acme.example", "name": "Bob Brandt"},
    }


def test_projects_for_the_system_admin(sandbox: SandboxServer) -> None:
    projects = get(sandbox, "projects", "admin").json()

    assert projects["carol-research"] == ["carol", "alice", "bob"]
    assert all("-" in name for name in projects)


@pytest.mark.parametrize(
    ("endpoint", "username"),
    [
        ("projects", "alice"),
        ("projects", "carol"),
        ("audit", "alice"),
        ("audit", "carol"),
        ("billing", "alice"),
        ("billing", "dave"),
        ("teamusers", "alice"),
        ("teamusers", "dave"),
        ("queues", "alice"),
        ("queues", "carol"),
    ],
)
def test_non_admins_get_401_on_admin_endpoints(
    sandbox: SandboxServer, endpoint: str, username: str
) -> None:
    response = get(sandbox, endpoint, username)

    assert response.status_code == 401
    assert "Unauthorized" in error_of(response)
