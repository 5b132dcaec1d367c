"""Job endpoints: jobs, teamjobs, status and the per-job calls."""

from __future__ import annotations

import copy
import random
from typing import Any

from . import _seed
from ._call import Call
from ._jobs import (
    CONNECT_AFTER,
    FINAL,
    METRICS_AFTER,
    QUEUED,
    RUNNING,
    SHUTDOWN_SECONDS,
    TERMINATED,
    Job,
)
from ._png import MAX_SIDE, desktop_png, fit_size
from ._reply import PNG, ApiError, Reply, json_reply, text_reply

JsonDict = dict[str, Any]
NOT_RUNNING = "Running job is not found"
# The OpenAPI documents these endpoints' 404 body as {"error": "Not found"}.
TERSE_404 = frozenset({"shutdown", "terminate", "signal"})


def find_job(call: Call, endpoint: str = "") -> Job:
    """The caller's job named by ``number`` or ``name`` (404 otherwise)."""
    number = call.params.integer("number", low=1)
    name = call.params.raw("name")
    if number is None and name is None:
        raise ApiError(400, "No job specified: give name or number")
    world = call.world
    if number is not None:
        job = world.jobs.get(number)
        if job is not None and name is not None and job.name != name:
            job = None
    else:
        job = next((j for j in world.jobs.values() if j.name == name), None)
    if job is None or job.owner != call.user.username:
        raise ApiError(404, "Not found" if endpoint in TERSE_404 else "Job not found")
    job.refresh(call.now)
    return job


def running_job(call: Call, endpoint: str = "") -> Job:
    job = find_job(call, endpoint)
    if job.status != RUNNING:
        raise ApiError(404, NOT_RUNNING)
    return job


def ready_job(call: Call, what: str) -> Job:
    """A running job whose application components have started."""
    job = running_job(call)
    if call.now - job.start_time < CONNECT_AFTER:
        raise ApiError(404, f"{what} not available yet; the job is starting")
    return job


def status_entry(call: Call, job: Job) -> JsonDict:
    return {
        "job_name": job.name,
        "job_status": job.status,
        "job_substatus": job.substatus,
        "job_start_time": int(job.start_time),
        "job_end_time": int(job.end_time),
        "job_submit_time": int(job.submit_time),
        "job_application": job.application,
        "job_command": job.command,
        "job_walltime": call.world.walltime_of(job),
        "job_project": job.project,
    }


def job_entry(call: Call, job: Job) -> JsonDict:
    now = call.now
    started = job.start_time or (job.end_time if job.status in FINAL else now)
    wall = int(job.active_seconds(now))
    hours = wall * job.nodes / 3600
    app_hourly = job.app_price / job.nodes if job.nodes else 0.0
    compute_cost = round(hours * job.price / job.nodes, 4) if job.nodes else 0.0
    return {
        "job_number": job.number,
        "job_name": job.name,
        "job_label": job.label,
        "job_status": job.status,
        "job_substatus": job.substatus,
        "job_substatus_text": job.substatus_text,
        "job_submit_time": int(job.submit_time),
        "job_start_time": int(job.start_time),
        "job_end_time": int(job.end_time),
        "job_walltime": call.world.walltime_of(job),
        "job_exitcode": job.exitcode,
        "job_application": job.application,
        "job_command": job.command,
        "job_owner_username": job.owner,
        "job_payer": job.payer,
        "job_nodes": ",".join(job.hostnames) if job.start_time else "",
        "job_address": job.address if job.interactive and job.status == RUNNING else "",
        "job_api_submission": copy.deepcopy(job.submission),
        "job_mc_name": job.machine,
        "job_mc_scale": job.nodes,
        "job_price": job.price,
        "job_app_price": job.app_price,
        "job_billing_code": 0,
        "job_billed": job.status in FINAL,
        "job_after": None,
        "job_stats": {
            "app_cost": round(hours * app_hourly, 4),
            "compute_cost": compute_cost,
            "compute_time": wall * job.nodes,
            "job_count": 1,
            "queue_time": int(started - job.submit_time),
            "wall_time": wall,
        },
        "job_project": job.project,
    }


def _listing(call: Call, usernames: list[str]) -> Reply:
    """Active jobs, or with ``completed=true`` (exactly) finished ones.

    Also the filters Nimbix's own helpers send: ``label`` (a substring, or
    the whole label with ``exactmatch=True``) and ``all=True`` (both).
    """
    params = call.params
    completed = params.raw("completed") == "true"
    everything = params.flag("all")
    label, exact = params.raw("label"), params.flag("exactmatch")
    chosen = [
        job
        for job in call.world.jobs_of(usernames)
        if (everything or (job.status in FINAL) == completed)
        and (label is None or (job.label == label if exact else label in job.label))
    ]
    return json_reply({str(j.number): job_entry(call, j) for j in chosen})


def jobs(call: Call) -> Reply:
    return _listing(call, [call.user.username])


def teamjobs(call: Call) -> Reply:
    user = call.user
    if call.world.is_team_manager(user):
        return _listing(call, call.world.team_members(user.team))
    return _listing(call, [user.username])


def status(call: Call) -> Reply:
    job = find_job(call)
    return json_reply({str(job.number): status_entry(call, job)})


def metrics(call: Call) -> Reply:
    job = running_job(call)
    running_for = call.now - job.start_time
    if running_for < METRICS_AFTER:
        raise ApiError(404, "Metrics not available yet; try again in a minute")
    sample = int(running_for // METRICS_AFTER)
    total = _seed.MACHINES[job.machine]["mc_ram"] * 1024 * 1024
    cpu: list[int] = []
    used: list[int] = []
    for node in range(job.nodes):
        rng = random.Random(job.number * 7919 + node * 104729 + sample)
        busy = (2, 25) if job.interactive else (55, 99) if node == 0 else (20, 90)
        cpu.append(0 if job.suspended_since is not None else rng.randint(*busy))
        used.append(int(total * rng.uniform(0.04, 0.6)))
    return json_reply(
        {
            "itemized": {
                "memory_used": used,
                "cpu_used": cpu,
                "memory_total": [total] * job.nodes,
            },
            "summary": {
                "memory_used": sum(used),
                "cpu_used": round(sum(cpu) / len(cpu)),
                "memory_total": total * job.nodes,
            },
        }
    )


def _tail(call: Call, lines: list[str]) -> Reply:
    count = call.params.integer("lines", 100)
    return text_reply(lines[-count:] if count else lines)


def output(call: Call) -> Reply:
    job = find_job(call)
    if job.status not in FINAL:
        raise ApiError(404, "Completed job is not found; use /jarvice/tail")
    return _tail(call, job.visible_lines(call.now))


def tail(call: Call) -> Reply:
    job = running_job(call)
    return _tail(call, job.visible_lines(call.now))


def screenshot(call: Call) -> Reply:
    params = call.params
    width = params.integer("width", low=1)
    height = params.integer("height", low=1)
    if (width or 0) > MAX_SIDE or (height or 0) > MAX_SIDE:
        raise ApiError(
            400, f"Invalid parameter(s): width and height are at most {MAX_SIDE}"
        )
    # "if specified": present, even bare or empty, unless it says false
    said = (params.raw("emphatic") or "").lower()
    emphatic = params.given("emphatic") and said not in ("false", "0")
    job = ready_job(call, "Screenshot")
    if not job.graphical:
        raise ApiError(501, "Invalid image")
    size = fit_size(job.geometry, width, height, emphatic=emphatic)
    return Reply(200, desktop_png(size[0], size[1], job.number), PNG)


def _url(call: Call, job: Job) -> str | None:
    app = call.world.apps.get(job.application)
    if app is None:
        return None
    template = app.appdef["commands"].get(job.command, {}).get("url")
    if not template:
        return None
    return (
        str(template)
        .replace("%PUBLICADDR%", job.address)
        .replace("%NIMBIXPASSWD%", job.password)
    )


def connect(call: Call) -> Reply:
    job = running_job(call)
    if not job.interactive:
        raise ApiError(
            400, "Job is not interactive: its command has no interactive endpoint"
        )
    job = ready_job(call, "Connection details")
    return json_reply({"address": job.address, "password": job.password})


def info(call: Call) -> Reply:
    job = ready_job(call, "Job information")
    app = call.world.apps.get(job.application)
    actions = {k: {"alt": v} for k, v in app.actions.items()} if app else {}
    return json_reply(
        {
            "url": _url(call, job),
            "about": app.about if app else None,
            "help": app.help if app else None,
            "actions": actions or None,
            "address": job.address if job.interactive else None,
            "password": job.password if job.interactive else None,
        }
    )


def signal(call: Call) -> Reply:
    number = call.params.integer("signal", 20, low=1)
    if number is None or number > 64:
        raise ApiError(400, "Invalid parameter(s): signal must be 1-64")
    job = running_job(call, "signal")
    if number == 20:
        job.suspend(call.now)
    elif number == 18:
        job.resume(call.now)
    else:
        job.extra.append((call.now, f"Received signal {number}"))
    return json_reply({"signal": number, "pid": 100 + job.number % 900})


def action(call: Call) -> Reply:
    name = call.params.required("action")
    job = running_job(call)
    app = call.world.apps.get(job.application)
    if app is None or name not in app.actions:
        raise ApiError(
            400, f"Invalid parameter(s): '{name}' is not an action of this job"
        )
    job.extra.append((call.now, f"Action '{name}' requested"))
    return json_reply({"status": "action requested"})


def shutdown(call: Call) -> Reply:
    job = running_job(call, "shutdown")
    stop = call.now + SHUTDOWN_SECONDS
    job.stop_at = stop if job.stop_at is None else min(job.stop_at, stop)
    if job.suspended_since is not None:
        job.resume(call.now)
    call.world.log_audit(call.now, job.owner, "job", job, "API shutdown")
    return json_reply({"status": "shutdown requested"})


def terminate(call: Call) -> Reply:
    job = find_job(call, "terminate")
    if job.status in FINAL:
        raise ApiError(404, "Active job is not found: the job has already ended")
    if job.status in QUEUED:
        job.held = False
    job.finish(call.now, TERMINATED)
    call.world.log_audit(call.now, job.owner, "job", job, "API terminate")
    return json_reply({"status": "terminated"})
