"""Catalogue endpoints: apps, appdef, machines, queues, vault, teamusers,
projects."""

from __future__ import annotations

import copy
from typing import Any

from . import _seed
from ._appdef import machine_allowed
from ._call import Call
from ._reply import ApiError, Reply, json_reply
from ._seed import AppSeed

JsonDict = dict[str, Any]
NOT_ADMIN = "Unauthorized: this endpoint is for system administrators"


def require_admin(call: Call) -> None:
    if call.user.role != "system_admin":
        raise ApiError(401, NOT_ADMIN)


def _app_entry(call: Call, app: AppSeed) -> JsonDict:
    return {
        "id": app.id,
        "price": app.price,
        "data": copy.deepcopy(app.appdef),
        "owner": app.owner,
        "arch": "amd64",
        "privs": [],
        "src": "pushtocompute" if not app.public else "catalog",
        "updated": int(call.world.app_updated[app.id]),
        "checkedout": False,
        "certified": app.public,
        "walltime": "",
        "repo": call.world.app_repo[app.id],
    }


def apps(call: Call) -> Reply:
    version = call.params.integer("version", 1, low=1) or 1
    wanted = call.params.raw("name")
    found: JsonDict = {}
    for app in call.world.apps.values():
        if wanted is not None and app.id != wanted:
            continue
        if not call.world.visible_app(call.account, app):
            continue
        if app.appdef.get("appdefversion", 1) > version:
            continue
        found[app.id] = _app_entry(call, app)
    return json_reply(found)


def appdef(call: Call) -> Reply:
    app = call.world.app_for(call.user, call.params.required("name"))
    return json_reply(app.appdef)


def machines(call: Call) -> Reply:
    vault = call.world.vault_of(call.user, call.params.raw("vault"))
    wanted = call.params.raw("name")
    found = {
        name: copy.deepcopy(machine)
        for name, machine in _seed.MACHINES.items()
        if (wanted is None or name == wanted)
        and machine_allowed(list(vault.machines), name)
    }
    return json_reply(found)


def queues(call: Call) -> Reply:
    require_admin(call)  # under Administration: "restricted to JXE/System admins"
    wanted = call.params.raw("name")
    chosen = [q for q in _seed.QUEUES if wanted is None or q == wanted]
    if wanted is not None and not chosen:
        raise ApiError(404, "Queue not found")
    if call.params.flag("info"):
        return json_reply({q: dict(_seed.QUEUES[q]) for q in chosen})
    return json_reply(chosen)


def teamusers(call: Call) -> Reply:
    user = call.user
    team = call.world.team_of(user)
    if user.username not in team.admins and user.role != "system_admin":
        raise ApiError(401, "Unauthorized: this endpoint is for team administrators")
    members = {}
    for name in call.world.team_members(user.team):
        if name != user.username:
            person = call.world.person(name)
            members[name] = {"email": person.email, "name": person.name}
    return json_reply(members)


def projects(call: Call) -> Reply:
    require_admin(call)
    return json_reply({name: list(users) for name, users in _seed.PROJECTS.items()})


SORT_KEYS = "nsm"


def vault(call: Call) -> Reply:
    params = call.params
    chosen = call.world.vault_of(call.user, params.required("vault"))
    path = params.required("path")
    details = params.flag("details")
    sort = params.raw("sort") or "n"
    if len(sort) != 1 or sort.lower() not in SORT_KEYS:
        raise ApiError(400, "Invalid parameter(s): sort must be one of n s m N S M")
    if sort.lower() != "n" and not details:
        raise ApiError(
            400, "Invalid parameter(s): sorting by size or time needs details=true"
        )
    node: Any = chosen.tree
    for part in [p for p in path.split("/") if p not in ("", ".")]:
        node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            raise ApiError(400, f"Invalid parameter(s): no directory '{path}' in vault")
    now = call.now
    rows: list[list[Any]] = []
    for name, entry in node.items():
        if isinstance(entry, dict):
            size, mtime, name = 4096, _newest(entry, now), f"{name}/"
        else:
            size, mtime = entry[0], int(now - entry[1])
        rows.append([name, size if details else 0, mtime if details else 0])
    column = SORT_KEYS.index(sort.lower())
    rows.sort(key=lambda row: (row[column], row[0]), reverse=sort.isupper())
    return json_reply(rows)


def _newest(tree: dict[str, Any], now: float) -> int:
    ages = [e[1] for e in tree.values() if not isinstance(e, dict)]
    ages += [int(now - _newest(e, now)) for e in tree.values() if isinstance(e, dict)]
    return int(now - min(ages, default=90 * _seed.DAY))
