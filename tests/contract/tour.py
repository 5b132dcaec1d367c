"""A tour of all 28 endpoints, recorded as a cassette and replayed in tests.

It runs against the sandbox (the clock is moved forward while waiting) or a
real JARVICE (it polls every few seconds). Each step's outcome is kept: a
typed result, or the class of the error the client raised, so a replay shows
exactly where the client and the recording disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jarvice_tools import JarviceClient, confirm
from jarvice_tools.errors import JarviceError
from jarvice_tools.models import BuildParams, JobRef, JobStatus

Wait = Callable[[float], Awaitable[None]]
Outcome = dict[str, Any]


@dataclass(frozen=True)
class TourPlan:
    """The names the tour uses; they differ between the sandbox and a real
    JARVICE account."""

    app: str = "jarvice-desktop"
    app_command: str = "Desktop"
    machine: str = "n0"
    vault: str = "alice-home"
    image: str = "alice-myapp"
    image_repo: str = "alice/myapp:latest"
    images: bool = True
    admin: bool = True


def outcome(value: object) -> Outcome:
    """A comparable summary of a step's result."""
    if isinstance(value, JarviceError):
        return {"error": type(value).__name__}
    if isinstance(value, bytes):
        return {"bytes": value[:8].hex()}
    if isinstance(value, str):
        return {"text_lines": len(value.splitlines())}
    return {"type": type(value).__name__}


async def step(results: dict[str, Outcome], name: str, call: Awaitable[Any]) -> Any:
    try:
        value = await call
    except JarviceError as error:
        results[name] = outcome(error)
        return None
    results[name] = outcome(value)
    return value


async def wait_for(
    jarvice: JarviceClient,
    number: int,
    done: Callable[[JobStatus], bool],
    wait: Wait,
    *,
    polls: int = 60,
) -> JobStatus:
    for _ in range(polls):
        _, status = (await jarvice.status(number)).only()
        if done(status):
            return status
        await wait(5.0)
    raise TimeoutError(f"job {number} did not get there")


async def tour(
    user: JarviceClient, admin: JarviceClient, wait: Wait, plan: TourPlan
) -> dict[str, Outcome]:
    """Call every endpoint at least once; return each step's outcome."""
    results: dict[str, Outcome] = {}
    who = user.caller.username if user.caller else ""

    await step(results, "apps", user.apps())
    appdef = await step(results, "appdef", user.appdef(plan.app))
    raw = appdef.model_dump(by_alias=True, exclude_unset=True) if appdef else {}
    await step(results, "validate", user.validate(raw))
    await step(results, "machines", user.machines(name=plan.machine))
    await step(results, "vault", user.vault(plan.vault, "/", details=True))
    await step(results, "teamusers", user.teamusers())

    batch = {
        "container": {
            "image": "library/ubuntu:jammy",
            "jobscript": "echo tour; sleep 40; echo done",
        },
        "machine": {"type": plan.machine, "nodes": 1},
        "job_label": "jarvice-tools-tour",
    }
    job = await user.batch(batch)
    results["batch"] = outcome(job)
    await wait_for(user, job.number, lambda s: s.is_running, wait)

    await step(results, "status", user.status(job.number))
    await step(results, "jobs", user.jobs())
    await step(results, "teamjobs", user.teamjobs())
    await step(results, "tail", user.tail(job.number, lines=10))
    await step(results, "metrics", user.metrics(job.number))
    await step(results, "info", user.info(job.number))
    await step(results, "connect", user.connect(job.number))
    await step(results, "screenshot", user.screenshot(job.number))
    await step(results, "action", user.action(job.number, action="tour"))
    await step(results, "signal", user.signal(job.number, signal=20))
    await step(results, "signal-resume", user.signal(job.number, signal=18))
    ref = JobRef(number=job.number)
    yes = confirm("terminate", ref, username=who, confirmed_by="tour")
    await step(results, "terminate", user.terminate(job.number, confirmation=yes))
    await wait_for(user, job.number, lambda s: s.is_final, wait)
    await step(results, "output", user.output(job.number, lines=0))

    submission = {
        "app": plan.app,
        "application": {"command": plan.app_command},
        "machine": {"type": plan.machine},
    }
    second = await user.submit(submission)
    results["submit"] = outcome(second)
    await wait_for(user, second.number, lambda s: s.is_running, wait)
    await wait(30.0)
    await step(results, "info-interactive", user.info(second.number))
    await step(results, "connect-interactive", user.connect(second.number))
    await step(results, "screenshot-interactive", user.screenshot(second.number))
    ref = JobRef(number=second.number)
    yes = confirm("shutdown", ref, username=who, confirmed_by="tour")
    await step(results, "shutdown", user.shutdown(second.number, confirmation=yes))
    await wait_for(user, second.number, lambda s: s.is_final, wait)

    if plan.images:
        await step(results, "history", user.history(plan.image, limit=5))
        await step(results, "pull", user.pull(plan.image_repo, plan.image))
        build = BuildParams(target=plan.image)
        yes = confirm("build", build, username=who, confirmed_by="tour")
        await step(results, "build", user.build(plan.image, confirmation=yes))

    if plan.admin:
        await step(results, "projects", admin.projects())
        await step(results, "billing", admin.billing(timeperiod="current"))
        await step(results, "audit", admin.audit(lines=5))
        await step(results, "queues", admin.queues(info=True))
    return results
