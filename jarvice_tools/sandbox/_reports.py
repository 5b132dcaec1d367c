"""Admin reports and PushToCompute: billing, audit, history, pull, build."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from . import _seed
from ._call import Call
from ._catalog import require_admin
from ._jobs import STATUSES, Job
from ._reply import CSV, ApiError, Reply, json_reply, text_reply
from ._seed import AppSeed
from ._world import Build, Event, month_start

AUDIT_CATEGORIES = (
    "apps",
    "dockerpull",
    "ip",
    "job",
    "limit",
    "settings",
    "team",
    "user",
    "vault",
)
BUILD_SECONDS = 60.0
PULL_SECONDS = 30.0
ITEMIZED_COLUMNS = [
    "job_number",
    "user",
    "payer",
    "project",
    "job_name",
    "application",
    "machine_type",
    "nodes",
    "status",
    "submit_time",
    "start_time",
    "end_time",
    "wall_seconds",
    "compute_hours",
    "compute_cost",
    "app_cost",
    "total_cost",
    "billing_code",
]
SUMMARY_COLUMNS = [
    "user",
    "payer",
    "jobs",
    "compute_hours",
    "compute_cost",
    "app_cost",
    "total_cost",
]


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%d %H:%M:%S")


# -- billing -----------------------------------------------------------------


def _date(call: Call, name: str) -> datetime:
    value = call.params.required(name)
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ApiError(400, f"Invalid parameter(s): {name} must be YYYY-MM-DD") from exc


def _period(call: Call) -> tuple[float, float]:
    period = call.params.raw("timeperiod") or "current"
    today = datetime.fromtimestamp(call.now, UTC)
    if period == "current":
        start, end = (
            month_start(today),
            month_start(today + timedelta(days=32 - today.day)),
        )
    elif period == "last":
        start, end = month_start(today, 1), month_start(today)
    elif period == "range":
        start, end = (
            _date(call, "startdate"),
            _date(call, "enddate") + timedelta(days=1),
        )
        if end <= start:
            raise ApiError(400, "Invalid parameter(s): enddate is before startdate")
    else:
        raise ApiError(
            400, "Invalid parameter(s): timeperiod must be last, current or range"
        )
    return start.timestamp(), end.timestamp()


def _report_users(call: Call) -> list[str]:
    world, user = call.world, call.user
    if user.role == "system_admin":
        allowed = list(world.accounts)
    elif world.is_team_manager(user):
        allowed = world.team_members(user.team)
    else:
        raise ApiError(
            401, "Unauthorized: billing is for administrators and team payers"
        )
    wanted = call.params.listed("reportuser")
    if not wanted:
        return allowed
    chosen = set(wanted)
    for team in _seed.TEAMS.values():  # a payer need not be a login
        if team.payer in chosen:
            chosen.update(world.team_members(team.name))
    return [name for name in allowed if name in chosen]


def _job_filter(call: Call) -> tuple[list[str], list[str], str | None, int | None]:
    statuses = call.params.listed("statuses")
    for status in statuses:
        if status not in STATUSES:
            raise ApiError(400, f"Invalid parameter(s): unknown status '{status}'")
    machtypes = call.params.listed("machtypes")
    for machine in machtypes:
        if machine not in _seed.MACHINES:
            raise ApiError(
                400, f"Invalid parameter(s): unknown machine type '{machine}'"
            )
    code = call.params.integer("billingcode")
    return statuses, machtypes, call.params.raw("jobapp"), code


def _costs(call: Call, job: Job) -> tuple[int, float, float, float]:
    wall = int(job.active_seconds(call.now))
    hours = wall * job.nodes / 3600
    price = _seed.MACHINES[job.machine]["mc_price"]
    app_price = job.app_price / job.nodes if job.nodes else 0.0
    return wall, hours, round(hours * price, 2), round(hours * app_price, 2)


def billing(call: Call) -> Reply:
    users = _report_users(call)
    start, end = _period(call)
    statuses, machtypes, jobapp, code = _job_filter(call)
    itemized = call.params.flag("itemized")
    jobs = [
        job
        for job in call.world.jobs_of(users)
        if start <= job.submit_time < end
        and (not statuses or job.status in statuses)
        and (not machtypes or job.machine in machtypes)
        and (jobapp is None or job.application == jobapp)
        and code in (None, 0)
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if itemized:
        writer.writerow(ITEMIZED_COLUMNS)
        writer.writerows(_itemized_row(call, job) for job in jobs)
    else:
        writer.writerow(SUMMARY_COLUMNS)
        totals = [0.0, 0.0, 0.0, 0.0]
        for name in users:
            costs = [_costs(call, job) for job in jobs if job.owner == name]
            row = [float(len(costs)), *(sum(c[k] for c in costs) for k in (1, 2, 3))]
            totals = [a + b for a, b in zip(totals, row, strict=True)]
            payer = call.world.team_of(call.world.accounts[name]).payer
            writer.writerow(_summary_row(name, payer, row))
        writer.writerow(_summary_row("@", "", totals))
    return Reply(200, out.getvalue().encode(), CSV)


def _itemized_row(call: Call, job: Job) -> list[str | int]:
    wall, hours, compute, app = _costs(call, job)
    start, end = (_stamp(t) if t else "" for t in (job.start_time, job.end_time))
    return [
        job.number, job.owner, job.payer, job.project or "", job.name,
        job.application, job.machine, job.nodes, job.status,
        _stamp(job.submit_time), start, end, wall, f"{hours:.4f}",
        f"{compute:.2f}", f"{app:.2f}", f"{compute + app:.2f}", 0,
    ]  # fmt: skip


def _summary_row(user: str, payer: str, row: list[float]) -> list[str | int]:
    count, hours, compute, app = row
    return [
        user,
        payer,
        int(count),
        f"{hours:.4f}",
        f"{compute:.2f}",
        f"{app:.2f}",
        f"{compute + app:.2f}",
    ]


# -- audit -------------------------------------------------------------------


def audit(call: Call) -> Reply:
    require_admin(call)
    params = call.params
    category = params.raw("category")
    if category is not None and category not in AUDIT_CATEGORIES:
        raise ApiError(
            400,
            f"Invalid parameter(s): category must be one of "
            f"{', '.join(AUDIT_CATEGORIES)}",
        )
    quser, resource = params.raw("quser"), params.raw("resource")
    count = params.integer("lines", 100)
    now = call.now
    events = [
        e
        for e in call.world.audit
        if e.time <= now
        and (quser is None or e.user == quser)
        and (category is None or e.category == category)
        and (resource is None or e.resource == resource)
    ]
    if count:
        events = events[-count:]
    lines = [
        f"{_stamp(e.time)} UTC | {e.user} | {e.category} | {e.resource} | {e.message}"
        for e in events
    ]
    return text_reply(lines)


# -- PushToCompute -----------------------------------------------------------


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            amount = seconds // size
            return f"{amount} {unit}{'s' if amount != 1 else ''} ago"
    return "just now" if seconds < 5 else f"{seconds} seconds ago"


def _owned(call: Call, target: str) -> AppSeed | None:
    app = call.world.apps.get(target)
    user = call.user
    if app is None or (app.owner != user.username and user.role != "system_admin"):
        return None
    return app


def history(call: Call) -> Reply:
    target = call.params.required("target")
    limit = call.params.integer("limit", 100, low=1) or 100
    relative = call.params.flag("reltime", True)
    if _owned(call, target) is None:
        return text_reply([])
    now = call.now
    events = [e for e in call.world.history if e.target == target and e.time <= now]
    order = {id(e): i for i, e in enumerate(events)}  # later wins a tie
    events.sort(key=lambda e: (e.time, order[id(e)]), reverse=True)

    def when(event: Event) -> str:
        if relative:
            return _ago(now - event.time)
        return f"{_stamp(event.time)} UTC"

    return text_reply([f"{when(e)}: {e.message}" for e in events[:limit]])


def _target(call: Call) -> AppSeed:
    target = call.params.required("target")
    app = _owned(call, target)
    if app is None:
        raise ApiError(400, f"Invalid parameter(s): no application '{target}' of yours")
    return app


def _pull_events(target: str, repo: str, at: float, build: int | None) -> list[Event]:
    return [
        Event(at, f"Pull of {repo} started", target=target, build=build),
        Event(
            at + PULL_SECONDS, f"Pull of {repo} completed", target=target, build=build
        ),
    ]


def pull(call: Call) -> Reply:
    repo = call.params.required("repo")
    app = _target(call)
    world, now = call.world, call.now
    world.history += _pull_events(app.id, repo, now, None)
    world.app_repo[app.id] = repo
    world.app_updated[app.id] = now + PULL_SECONDS
    world.log_audit(
        now, call.user.username, "dockerpull", app.id, f"pull of {repo} requested"
    )
    return json_reply({"status": "Pull successfully scheduled"})


def build(call: Call) -> Reply:
    app = _target(call)
    world, now = call.world, call.now
    running = [
        b
        for b in world.builds
        if b.target == app.id and not b.aborted and b.start <= now < b.end
    ]
    if call.params.flag("abort"):
        if not running:
            raise ApiError(400, f"No build of {app.id} is running")
        _abort(call, running[0])
        return json_reply({"status": "Build aborted"})
    if running:
        raise ApiError(400, f"A build of {app.id} is already running")
    number = len(world.builds) + 1
    world.builds.append(Build(number, app.id, now, now + BUILD_SECONDS))
    done = now + BUILD_SECONDS
    world.history += [
        Event(now, f"Build of {app.id} started", target=app.id, build=number),
        Event(done, f"Build of {app.id} completed", target=app.id, build=number),
    ]
    if call.params.flag("pull"):
        world.history += _pull_events(app.id, world.app_repo[app.id], done, number)
    world.log_audit(
        now, call.user.username, "apps", app.id, f"build of {app.id} requested"
    )
    return json_reply({"status": "Build successfully scheduled"})


def _abort(call: Call, running: Build) -> None:
    world, now = call.world, call.now
    running.aborted = True
    world.history = [
        e for e in world.history if e.build != running.number or e.time <= now
    ]
    world.history.append(
        Event(now, f"Build of {running.target} aborted", target=running.target)
    )
    world.log_audit(now, call.user.username, "apps", running.target, "build aborted")
