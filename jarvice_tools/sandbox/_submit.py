"""submit, batch and validate: the JSON-body endpoints."""

from __future__ import annotations

import copy
import re
from typing import Any

from . import _seed
from ._appdef import WALLTIME, AppDefError, check_parameters, machine_allowed
from ._appdef import validate_appdef as check_appdef
from ._call import Call
from ._jobs import Job
from ._png import MAX_SIDE
from ._reply import ApiError, Reply, json_reply
from ._script import plan_script
from ._seed import Account, AppSeed

JsonDict = dict[str, Any]
MALFORMED = "Missing or Malformed API Syntax"
NOT_AUTHORIZED = "Not Authorized"
PRIORITIES = ("normal", "high", "highest")
GEOMETRY = re.compile(r"([0-9]{1,4})x([0-9]{1,4})")


def redact(body: JsonDict) -> JsonDict:
    """A copy of a submission without ``user.apikey``."""
    clean = copy.deepcopy(body)
    user = clean.get("user")
    if isinstance(user, dict):
        user.pop("apikey", None)
    return clean


def body_user(call: Call) -> Account:
    """Authenticate from the body's ``user`` object."""
    body = call.body
    if not isinstance(body, dict):
        raise ApiError(400, f"{MALFORMED}: the body must be a JSON object")
    user = body.get("user")
    if not isinstance(user, dict):
        raise ApiError(400, "User required: add user{username, apikey} to the body")
    username, apikey = user.get("username"), user.get("apikey")
    if not isinstance(username, str) or not isinstance(apikey, str):
        raise ApiError(400, "User required: add user{username, apikey} to the body")
    # The OpenAPI's 401 for submit and batch reads "Not Authorized".
    return call.world.authenticate(username, apikey, NOT_AUTHORIZED)


def _section(body: JsonDict, key: str) -> JsonDict:
    value = body.get(key, {})
    if not isinstance(value, dict):
        raise ApiError(400, f"{MALFORMED}: '{key}' must be an object")
    return value


def _machine(body: JsonDict, allowed: list[str]) -> tuple[str, int]:
    machine = _section(body, "machine")
    name = machine.get("type")
    if not isinstance(name, str) or not name:
        raise ApiError(400, f"{MALFORMED}: machine.type is required")
    definition = _seed.MACHINES.get(name)
    if definition is None:
        raise ApiError(400, f"Invalid machine type '{name}'")
    if not machine_allowed(allowed, name):
        raise ApiError(
            400, f"Machine type '{name}' is not allowed for this application"
        )
    nodes = machine.get("nodes", 1)
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1:
        raise ApiError(400, f"{MALFORMED}: machine.nodes must be an integer >= 1")
    low, high = definition["mc_scale_min"], definition["mc_scale_max"]
    if not low <= nodes <= high:
        raise ApiError(
            400, f"Machine type '{name}' takes {low} to {high} nodes, not {nodes}"
        )
    return name, nodes


def _common(call: Call, account: Account, body: JsonDict, machine: str) -> JsonDict:
    """Checks shared by submit and batch; returns create_job keywords."""
    vault_name = _section(body, "vault").get("name")
    if vault_name is not None and not isinstance(vault_name, str):
        raise ApiError(400, f"{MALFORMED}: vault.name must be a string")
    vault = call.world.vault_of(account, vault_name or None)
    if not machine_allowed(list(vault.machines), machine):
        raise ApiError(
            400, f"Machine type '{machine}' cannot mount vault '{vault.name}'"
        )
    priority = body.get("job_priority")
    if priority is not None:
        if priority not in PRIORITIES:
            raise ApiError(400, "Invalid job_priority: use normal, high or highest")
        if priority != "normal" and not call.world.is_team_manager(account):
            raise ApiError(
                401, f"{NOT_AUTHORIZED}: job_priority is for payers and team admins"
            )
    queue = body.get("queue")
    if queue is not None and not isinstance(queue, str):
        raise ApiError(400, f"{MALFORMED}: queue must be a string")
    if queue is not None and queue not in _seed.QUEUES:
        raise ApiError(400, f"Queue '{queue}' not found")
    for key in ("job_label", "job_project"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ApiError(400, f"{MALFORMED}: {key} must be a string")
    return {"project": _project(account, body.get("job_project"))}


def _project(account: Account, project: str | None) -> str | None:
    if project is None:
        return _seed.only_project(account.username)
    if account.username not in _seed.PROJECTS.get(project, []):
        raise ApiError(
            400, f"Invalid job_project '{project}' for user {account.username}"
        )
    return project


def _walltime(application: JsonDict) -> float | None:
    value = application.get("walltime")
    if value is None:
        return None
    if not isinstance(value, str) or not WALLTIME.match(value):
        raise ApiError(400, f"{MALFORMED}: walltime must be HH:MM:SS")
    hours, minutes, seconds = (int(part) for part in value.split(":"))
    return float(hours * 3600 + minutes * 60 + seconds)


def valid_image(image: str) -> bool:
    """Docker Hub official images need the ``library/`` prefix."""
    if not image or any(ch.isspace() for ch in image):
        return False
    first, slash, rest = image.partition("/")
    if not slash or not rest:
        return False
    if first in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        return "/" in rest
    return True


def _record(call: Call, account: Account, job: Job) -> Reply:
    call.world.log_audit(
        call.now, account.username, "job", job, f"API submit of {job.name}"
    )
    return json_reply({"name": job.name, "number": job.number})


def batch(call: Call) -> Reply:
    account = body_user(call)
    body: JsonDict = call.body
    container = body.get("container")
    if not isinstance(container, dict) or not isinstance(container.get("image"), str):
        raise ApiError(400, "Invalid container in request")
    image = container["image"]
    if not valid_image(image):
        raise ApiError(400, "Invalid container in request")
    script = container.get("jobscript")
    if not isinstance(script, str) or not script.strip():
        raise ApiError(400, f"{MALFORMED}: container.jobscript is required")
    machine, nodes = _machine(body, ["*"])
    extra = _common(call, account, body, machine)
    job = call.world.create_job(
        account,
        "jarvice-batch",
        "Batch",
        machine,
        nodes,
        redact(body),
        planner=lambda job: plan_script(script, call.world.node_of(job, image)),
        **extra,
    )
    return _record(call, account, job)


def _geometry(value: Any) -> tuple[int, int] | None:
    """A desktop size ``<width>x<height>``, each side 1 to MAX_SIDE pixels."""
    if value is None:
        return None
    match = GEOMETRY.fullmatch(value) if isinstance(value, str) else None
    size = (int(match[1]), int(match[2])) if match else (0, 0)
    if not all(1 <= side <= MAX_SIDE for side in size):
        raise ApiError(
            400,
            f"{MALFORMED}: application.geometry must be <width>x<height> like "
            f"1904x841, each side 1 to {MAX_SIDE} pixels",
        )
    return size


def _command(app: AppSeed, application: JsonDict) -> tuple[str, JsonDict]:
    commands: JsonDict = app.appdef["commands"]
    name = application.get("command")
    if not isinstance(name, str) or not name:
        raise ApiError(400, f"{MALFORMED}: application.command is required")
    if name not in commands:
        choices = ", ".join(commands)
        raise ApiError(
            400, f"Invalid command '{name}' for {app.id}; use one of: {choices}"
        )
    return name, commands[name]


def submit(call: Call) -> Reply:
    account = body_user(call)
    body: JsonDict = call.body
    app_id = body.get("app")
    if not isinstance(app_id, str) or not app_id:
        raise ApiError(400, f"{MALFORMED}: 'app' is required")
    app = call.world.app_for(account, app_id)
    application = _section(body, "application")
    name, command = _command(app, application)
    try:
        values = check_parameters(name, command, application.get("parameters"))
    except AppDefError as exc:
        raise ApiError(400, f"Invalid application parameters: {exc}") from exc
    machine, nodes = _machine(body, command.get("machines") or app.appdef["machines"])
    extra = _common(call, account, body, machine)
    geometry = _geometry(application.get("geometry"))
    if geometry is not None:
        extra["geometry"] = geometry
    behaviour = app.behaviour.get(name, "fixed")
    job = call.world.create_job(
        account,
        app.id,
        name,
        machine,
        nodes,
        redact(body),
        kind=behaviour if behaviour in ("desktop", "notebook") else "batch",
        walltime_limit=_walltime(application),
        planner=lambda job: call.world.plan_for(job, behaviour, values),
        **extra,
    )
    return _record(call, account, job)


def validate(call: Call) -> Reply:
    try:
        check_appdef(call.body)
    except AppDefError as exc:
        raise ApiError(400, str(exc)) from exc
    return json_reply({"valid": True})
