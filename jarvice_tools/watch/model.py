"""What the watcher is told, what it remembers and what it reports.

The watcher is given `WatchedUser`s (credentials plus what to follow) by a
`UserSource`, keeps a `WatchState` that a caller may persist between runs,
and turns each poll into a `Cycle`: the `JobEvent`s it saw, the state to
adopt once those events are safely recorded, and how many API calls it took.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from jarvice_tools.models.jobs import JobEntry, is_final
from jarvice_tools.settings import Caller

__all__ = [
    "CallCount",
    "Cycle",
    "EventKind",
    "FeedFailure",
    "Horizon",
    "JobEvent",
    "StaticUsers",
    "TrackedJob",
    "UserSource",
    "WatchState",
    "WatchedUser",
]


class EventKind(StrEnum):
    """A transition the watcher reports."""

    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"


@dataclass(frozen=True)
class WatchedUser:
    """A JARVICE user whose jobs are followed, with their own credentials.

    `team=True` follows the jobs of the user's whole team through one
    `/teamjobs` call (JARVICE allows it to team admins and payers; for anyone
    else the watcher falls back to the user's own jobs). `owners` narrows a
    team watch to some members (None: every member). `jobs` are job numbers
    known to have been queued or running when the watch began (a job just
    submitted, or one named by a watch command): their end is news even if
    the watcher never saw them in a job list.
    """

    caller: Caller
    team: bool = False
    owners: frozenset[str] | None = None
    jobs: frozenset[int] = frozenset()

    @property
    def username(self) -> str:
        return self.caller.username


class UserSource(Protocol):
    """Where the watcher learns, before each poll, whom to watch."""

    async def watched_users(self) -> Sequence[WatchedUser]: ...


@dataclass(frozen=True)
class StaticUsers:
    """A fixed list of watched users (scripts, tests, benchmarks)."""

    users: tuple[WatchedUser, ...]

    async def watched_users(self) -> Sequence[WatchedUser]:
        return self.users


@dataclass(frozen=True)
class JobEvent:
    """One job changed state.

    `job` is the job as last listed by JARVICE, with the status fields of the
    final `/status` answer merged in for a finished job. `owner` is the
    JARVICE user who owns the job when known; `seen_by` is the watched user
    whose credentials observed the change; `watchers` are the watched users
    entitled to hear of it (the owner, team admins watching the owner's team,
    and whoever watches this job by number).
    """

    kind: EventKind
    number: int
    owner: str | None
    status: str
    previous: str | None
    job: JobEntry
    seen_at: float
    seen_by: str
    watchers: frozenset[str] = frozenset()

    @property
    def final(self) -> bool:
        return is_final(self.status)


@dataclass(frozen=True)
class TrackedJob:
    """A job the watcher follows until it reaches a final state."""

    number: int
    owner: str | None
    status: str
    job: JobEntry
    seen_by: str
    explicit: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "owner": self.owner,
            "status": self.status,
            "job": self.job.model_dump(mode="json", exclude_none=True),
            "seen_by": self.seen_by,
            "explicit": self.explicit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrackedJob:
        return cls(
            number=int(data["number"]),
            owner=data.get("owner"),
            status=str(data["status"]),
            job=JobEntry.model_validate(data["job"]),
            seen_by=str(data["seen_by"]),
            explicit=bool(data.get("explicit", False)),
        )


@dataclass(frozen=True)
class Horizon:
    """Which of a user's completed jobs are news when their completed list
    is read (a catch-up, for jobs that started and ended between two polls).

    A completed job numbered above `floor` that the watcher never followed
    nor reported is news. `latest` is the highest job number of the last
    completed list read; it becomes the floor at the next catch-up, so a job
    submitted while one catch-up was being read still counts at the next.
    """

    floor: int
    latest: int

    def after(self, latest: int) -> Horizon:
        """The horizon once a completed list whose highest number is
        `latest` has been read."""
        return Horizon(max(self.floor, self.latest), max(self.latest, latest))


@dataclass(frozen=True)
class WatchState:
    """What the watcher must remember across restarts.

    `jobs` are the jobs still followed; `known_owners` the users whose job
    lists have been seen at least once (jobs found on a first look are a
    baseline, not news); `finished` maps the jobs already reported as
    finished to when that was, so that they are never reported twice;
    `horizons` say, per user, which completed jobs a catch-up may announce
    (a user without one gets a baseline read first).
    """

    jobs: Mapping[int, TrackedJob] = field(default_factory=dict)
    known_owners: frozenset[str] = frozenset()
    finished: Mapping[int, float] = field(default_factory=dict)
    horizons: Mapping[str, Horizon] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": [job.to_json() for job in self.jobs.values()],
            "known_owners": sorted(self.known_owners),
            "finished": {str(n): at for n, at in self.finished.items()},
            "horizons": {
                name: [h.floor, h.latest] for name, h in sorted(self.horizons.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WatchState:
        jobs = [TrackedJob.from_json(item) for item in data.get("jobs", [])]
        horizons = data.get("horizons", {})
        return cls(
            jobs={job.number: job for job in jobs},
            known_owners=frozenset(data.get("known_owners", [])),
            finished={int(n): float(at) for n, at in data.get("finished", {}).items()},
            horizons={
                name: Horizon(int(floor), int(latest))
                for name, (floor, latest) in horizons.items()
            },
        )


@dataclass(frozen=True)
class CallCount:
    """API calls made during one poll, by endpoint."""

    lists: int = 0
    statuses: int = 0
    team_lookups: int = 0
    catch_ups: int = 0
    """Completed lists read to catch up (and baseline reads of new users)."""

    @property
    def total(self) -> int:
        return self.lists + self.statuses + self.team_lookups + self.catch_ups


@dataclass(frozen=True)
class FeedFailure:
    """A job list (or job status) that could not be read this cycle."""

    username: str
    team: bool
    error: str
    error_type: str
    retry_at: float


@dataclass(frozen=True)
class Cycle:
    """The outcome of one poll.

    Record `events` durably, then hand the cycle back to `Watcher.accept` so
    the watcher adopts `state`. If recording fails, do not accept it: the
    next poll finds the same changes again.
    """

    events: tuple[JobEvent, ...]
    state: WatchState
    calls: CallCount
    failures: tuple[FeedFailure, ...]
    healthy: bool
    started_at: float
    users: int
    feeds: int
