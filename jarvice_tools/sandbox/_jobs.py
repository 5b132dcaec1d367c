"""Simulated jobs: state derived from the clock, advanced on every look.

A job is queued for ``queue_seconds`` after submission, then runs its
:class:`~._script.Plan`. Its running time stops while it is suspended
(signal 20) and resumes on signal 18. ``refresh(now)`` applies every
transition that is due, at the time it was due, so a late look gives the
same times as a timely one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._script import Plan

SUBMITTED = "SUBMITTED"
RUNNING = "PROCESSING STARTING"
COMPLETED = "COMPLETED"
FAILED = "COMPLETED WITH ERROR"
TERMINATED = "TERMINATED"
CANCELED = "CANCELED"
EXEMPT = "EXEMPT"
SEQUENTIAL = "SEQUENTIALLY QUEUED"
STATUSES = (
    COMPLETED,
    FAILED,
    SUBMITTED,
    RUNNING,
    CANCELED,
    EXEMPT,
    SEQUENTIAL,
    TERMINATED,
)
FINAL = frozenset({COMPLETED, FAILED, TERMINATED, CANCELED})
QUEUED = frozenset({SUBMITTED, EXEMPT, SEQUENTIAL})

SUSPENDED_SUBSTATUS = 4
SUSPENDED_TEXT = "Suspended by user"
METRICS_AFTER = 30.0
CONNECT_AFTER = 5.0
SHUTDOWN_SECONDS = 2.0
EXITCODES = {COMPLETED: 0, FAILED: 1, TERMINATED: -15, CANCELED: -9}


@dataclass
class Job:
    """One job. Times are floats in seconds since the Epoch; 0 = not yet."""

    number: int
    name: str
    owner: str
    payer: str
    application: str
    command: str
    machine: str
    nodes: int
    submission: dict[str, Any]
    label: str
    project: str | None
    submit_time: float
    queue_seconds: float
    plan: Plan
    kind: str = "batch"
    hostnames: tuple[str, ...] = ()
    address: str = ""
    password: str = ""
    geometry: tuple[int, int] = (1280, 800)
    walltime_limit: float | None = None
    price: float = 0.0
    app_price: float = 0.0
    status: str = SUBMITTED
    substatus: int = 0
    substatus_text: str = ""
    start_time: float = 0.0
    end_time: float = 0.0
    exitcode: int | None = None
    held: bool = False
    suspended_since: float | None = None
    suspended_total: float = 0.0
    stop_at: float | None = None
    extra: list[tuple[float, str]] = field(default_factory=list)
    final_output: list[str] | None = None
    end_status: str | None = None

    @property
    def interactive(self) -> bool:
        return self.kind in ("desktop", "notebook")

    @property
    def graphical(self) -> bool:
        return self.kind == "desktop"

    def active_seconds(self, now: float) -> float:
        """Running time so far, not counting suspensions."""
        if not self.start_time:
            return 0.0
        until = self.end_time or now
        paused = self.suspended_total
        if self.suspended_since is not None:
            paused += until - self.suspended_since
        return max(0.0, until - self.start_time - paused)

    def refresh(self, now: float) -> None:
        if self.status in FINAL or self.held:
            return
        if self.status in QUEUED and now >= self.submit_time + self.queue_seconds:
            self.status = RUNNING
            self.start_time = self.submit_time + self.queue_seconds
        if self.status == RUNNING:
            self._finish_if_due(now)

    def _finish_if_due(self, now: float) -> None:
        candidates: list[tuple[float, str, int]] = []
        if self.stop_at is not None:
            candidates.append((self.stop_at, *self._ending(COMPLETED, 0)))
        natural = FAILED if self.plan.exitcode else COMPLETED
        limits = [
            (self.plan.duration, *self._ending(natural, self.plan.exitcode)),
            (self.walltime_limit, TERMINATED, EXITCODES[TERMINATED]),
        ]
        if self.suspended_since is None:
            for limit, status, code in limits:
                if limit is not None:
                    at = now - (self.active_seconds(now) - limit)
                    candidates.append((at, status, code))
        due = [c for c in candidates if c[0] <= now]
        if due:
            at, status, code = min(due)
            self.finish(max(at, self.start_time), status, code)

    def _ending(self, status: str, exitcode: int) -> tuple[str, int]:
        """How the run's own end (or a shutdown) finishes the job: as it
        would, or with the status forced by ``end_status``."""
        if self.end_status is None or self.end_status == status:
            return status, exitcode
        if self.end_status == FAILED:
            return FAILED, exitcode or EXITCODES[FAILED]
        return self.end_status, EXITCODES[self.end_status]

    def finish(self, at: float, status: str, exitcode: int | None = None) -> None:
        """Move to a final status at time ``at`` and freeze the output."""
        if self.suspended_since is not None:
            self.suspended_total += at - self.suspended_since
            self.suspended_since = None
        output = self.visible_lines(at)
        if (
            status == TERMINATED
            and self.walltime_limit is not None
            and (exitcode == EXITCODES[TERMINATED] and self.stop_at is None)
        ):
            output.append("Job exceeded its wall time limit and was terminated")
        self.final_output = output
        self.status = status
        self.end_time = at
        self.exitcode = EXITCODES.get(status, 0) if exitcode is None else exitcode
        self.substatus, self.substatus_text = 0, ""

    def visible_lines(self, now: float) -> list[str]:
        if self.final_output is not None:
            return list(self.final_output)
        if not self.start_time:
            return []
        elapsed = self.active_seconds(now)
        timed = [
            (self.start_time + off, ln) for off, ln in self.plan.lines if off <= elapsed
        ]
        timed += [(at, ln) for at, ln in self.extra if at <= now]
        timed.sort(key=lambda item: item[0])
        return [line for _, line in timed]

    def suspend(self, now: float) -> None:
        if self.suspended_since is None:
            self.suspended_since = now
        self.substatus, self.substatus_text = SUSPENDED_SUBSTATUS, SUSPENDED_TEXT

    def resume(self, now: float) -> None:
        if self.suspended_since is not None:
            self.suspended_total += now - self.suspended_since
            self.suspended_since = None
        self.substatus, self.substatus_text = 0, ""

    def force(self, status: str, now: float, substatus: int | None) -> None:
        """Set a status now, as the control surface asks."""
        if status in FINAL:
            if not self.start_time and status not in (CANCELED, TERMINATED):
                self.start_time = now
            self.held = False
            self.final_output = None
            self.finish(now, status)
        elif status == RUNNING:
            if self.status != RUNNING:
                self.start_time, self.end_time = now, 0.0
                self.suspended_since, self.suspended_total = None, 0.0
                self.exitcode, self.final_output = None, None
            self.status, self.held, self.stop_at = RUNNING, False, None
        else:
            self.status, self.held = status, True
            self.start_time = self.end_time = 0.0
            self.exitcode, self.final_output = None, None
        if substatus is not None:
            self.substatus = substatus
            self.substatus_text = (
                SUSPENDED_TEXT if substatus == SUSPENDED_SUBSTATUS else ""
            )


def walltime(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
