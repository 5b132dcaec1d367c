"""The watcher: job lists in, "job started / finished" events out.

One poll reads one job list per watched user (`/jobs`), or one per team when
a team admin is watched with `team=True` (`/teamjobs`), compares it with what
it saw before, and asks `/status` once for each job that left a list to learn
how it ended. The number of API calls per poll therefore grows with the users
and with the jobs that finished, not with the jobs followed.

A job that starts and ends between two polls never shows in those lists. So
each list is also read with `completed=true` once every `catch_up_every`
polls (the lists take turns, so a poll reads about 1/N of them), and once
when a user is first watched (a baseline: what it shows is not news); a
completed job numbered above the user's `Horizon` that the watcher never saw
is reported finished. A job that left its list during a poll that also read
its completed list is settled from that list, without a `/status` call.

When JARVICE cannot be reached or is overloaded, the poll is abandoned and the
next one waits longer (exponential backoff with jitter, up to
`max_backoff`). A user whose own list fails (a revoked API key) is retried
on their own schedule without slowing the others.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import anyio

from jarvice_tools import errors
from jarvice_tools.client import JarviceClient
from jarvice_tools.models.jobs import (
    RUNNING_STATUS,
    JobEntry,
    JobList,
    JobStatus,
    JobStatusMap,
    is_final,
)
from jarvice_tools.watch.model import (
    CallCount,
    Cycle,
    EventKind,
    FeedFailure,
    Horizon,
    JobEvent,
    TrackedJob,
    UserSource,
    WatchedUser,
    WatchState,
)

__all__ = ["Watcher"]

logger = logging.getLogger("jarvice_tools.watch")

_T = TypeVar("_T")

_KEPT_FIELDS = frozenset(
    {
        "job_number",
        "job_name",
        "job_label",
        "job_status",
        "job_substatus",
        "job_substatus_text",
        "job_submit_time",
        "job_start_time",
        "job_end_time",
        "job_walltime",
        "job_exitcode",
        "job_application",
        "job_command",
        "job_owner_username",
        "job_mc_name",
        "job_mc_scale",
        "job_project",
    }
)
"""What the watcher keeps of a job entry: enough for an alert, no bulk."""

_STATUS_FIELDS = (
    "job_status",
    "job_substatus",
    "job_submit_time",
    "job_start_time",
    "job_end_time",
    "job_walltime",
    "job_application",
    "job_command",
    "job_project",
)


class _Outage(Exception):
    """JARVICE as a whole is failing; abandon this poll."""

    def __init__(self, error: errors.JarviceError) -> None:
        super().__init__(str(error))
        self.error = error


def _is_outage(error: errors.JarviceError) -> bool:
    """Errors that say JARVICE itself is unwell, not that one user is refused."""
    if isinstance(error, errors.TransportError | errors.RateLimited):
        return True
    return isinstance(error, errors.ServerError) and error.status_code in (
        502,
        503,
        504,
    )


@dataclass
class _Feed:
    """One job-list call this poll, and what its answer covers."""

    user: WatchedUser
    team: bool
    interest: set[str] | None
    covered: set[str]
    members: dict[str, WatchedUser] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{'team' if self.team else 'own'}:{self.user.username}"

    def explicit(self) -> set[int]:
        return {n for member in self.members.values() for n in member.jobs}

    def owners(self) -> set[str]:
        """The users whose jobs this feed's answer is read for."""
        return set(self.covered if self.interest is None else self.interest)

    def wants(self, owner: str | None, number: int, explicit: set[int]) -> bool:
        if self.interest is None or number in explicit:
            return True
        return owner in self.interest


@dataclass
class _Backoff:
    failures: int = 0
    retry_at: float = 0.0


@dataclass
class _Poll:
    """Mutable working copy of the state during one poll."""

    now: float
    jobs: dict[int, TrackedJob]
    known: set[str]
    finished: dict[int, float]
    horizons: dict[str, Horizon] = field(default_factory=dict)
    index: int = 0
    completed: dict[str, JobList] = field(default_factory=dict)
    events: list[JobEvent] = field(default_factory=list)
    failures: list[FeedFailure] = field(default_factory=list)
    lists: int = 0
    statuses: int = 0
    catch_ups: int = 0
    viewers_by_owner: dict[str, set[str]] = field(default_factory=dict)
    viewers_by_job: dict[int, set[str]] = field(default_factory=dict)

    def viewers(self, owner: str | None, number: int) -> frozenset[str]:
        found = set(self.viewers_by_job.get(number, ()))
        if owner is not None:
            found |= self.viewers_by_owner.get(owner, set())
        return frozenset(found)

    def emit(
        self,
        kind: EventKind,
        tracked: TrackedJob,
        previous: str | None,
    ) -> None:
        self.events.append(
            JobEvent(
                kind=kind,
                number=tracked.number,
                owner=tracked.owner,
                status=tracked.status,
                previous=previous,
                job=tracked.job,
                seen_at=self.now,
                seen_by=tracked.seen_by,
                watchers=self.viewers(tracked.owner, tracked.number),
            )
        )
        if kind is EventKind.FINISHED:
            self.finished[tracked.number] = self.now
            self.jobs.pop(tracked.number, None)


class Watcher:
    """Polls JARVICE for the jobs of watched users and reports transitions.

    `poll()` does one cycle and returns a `Cycle` without changing the
    watcher; `accept(cycle)` adopts its state once its events are recorded.
    `run(on_cycle)` loops: poll, hand the cycle to `on_cycle`, accept it if
    that returned normally; polls start `interval` apart (longer after
    failures), however long each took.
    """

    def __init__(
        self,
        client: JarviceClient,
        users: UserSource,
        *,
        interval: float = 30.0,
        max_backoff: float = 600.0,
        team_refresh: float = 600.0,
        finished_retention: float = 86400.0,
        concurrency: int = 8,
        catch_up_every: int = 6,
        state: WatchState | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be a positive number of seconds")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if catch_up_every < 1:
            raise ValueError("catch_up_every must be at least 1 poll")
        self.concurrency = concurrency
        self.catch_up_every = catch_up_every
        self.client = client
        self.users = users
        self.interval = interval
        self.max_backoff = max(max_backoff, interval)
        self.team_refresh = team_refresh
        self.finished_retention = finished_retention
        self.clock = clock
        self._state = state or WatchState()
        self._health = _Backoff()
        self._feed_backoff: dict[str, _Backoff] = {}
        self._teams: dict[str, tuple[frozenset[str] | None, float]] = {}
        self._team_lookups = 0
        self._polls = 0
        self._catch_up_at: dict[str, int] = {}
        self._turns = 0

    @property
    def state(self) -> WatchState:
        return self._state

    def restore(self, state: WatchState) -> None:
        """Adopt a persisted state (a new leader taking over)."""
        self._state = state

    def accept(self, cycle: Cycle) -> None:
        """Adopt the state of a cycle whose events were recorded."""
        self._state = cycle.state

    async def final_states(self, user: WatchedUser) -> list[JobEvent]:
        """Ask `/status` how `user.jobs` ended, for a watch that began after
        the watcher had reported them finished: one FINISHED event per job
        that is final. Jobs not answered are left out (logged); the state
        is not touched."""
        work = _Poll(now=self.clock(), jobs={}, known=set(), finished={})
        work.viewers_by_owner[user.username] = {user.username}
        asked = [_placeholder(n, user.username) for n in sorted(user.jobs)]
        try:
            answers = await self._gather([self._status_call(t, user) for t in asked])
        except _Outage as outage:
            logger.warning(
                "JARVICE is failing (%s); asking again next poll",
                type(outage.error).__name__,
            )
            return []
        for tracked, answer in zip(asked, answers, strict=True):
            if isinstance(answer, errors.JarviceError):
                self._settle_failed(tracked.number, user.username, answer, work)
                continue
            status = next(iter(answer.root.values()))
            job = _merge_status(tracked.number, tracked.job, status)
            if is_final(job.job_status):
                done = replace(tracked, owner=user.username, status=job.job_status)
                work.emit(EventKind.FINISHED, replace(done, job=job), None)
        return work.events

    def next_delay(self) -> float:
        """Seconds to wait before the next poll: the interval, or a backoff."""
        if not self._health.failures:
            return self.interval
        ceiling = min(self.max_backoff, self.interval * 2**self._health.failures)
        return random.uniform(max(self.interval, ceiling / 2), ceiling)

    async def run(
        self,
        on_cycle: Callable[[Cycle], Awaitable[None]],
        *,
        cycles: int | None = None,
    ) -> None:
        """Poll forever (or `cycles` times), handing each cycle to `on_cycle`."""
        done = 0
        while cycles is None or done < cycles:
            started = anyio.current_time()
            try:
                cycle = await self.poll()
            except Exception:
                logger.exception("a poll failed unexpectedly; trying again later")
                self._health.failures += 1
            else:
                await self._hand_over(cycle, on_cycle)
            done += 1
            if cycles is None or done < cycles:
                took = anyio.current_time() - started
                await anyio.sleep(max(0.0, self.next_delay() - took))

    async def _hand_over(
        self, cycle: Cycle, on_cycle: Callable[[Cycle], Awaitable[None]]
    ) -> None:
        try:
            await on_cycle(cycle)
        except Exception:
            logger.exception("recording a poll failed; its events will recur")
        else:
            self.accept(cycle)

    # One poll.

    async def poll(self) -> Cycle:
        """Read the job lists once and report what changed."""
        started = self.clock()
        self._team_lookups = 0
        users = _merge(await self.users.watched_users())
        state = self._state
        work = _Poll(
            now=started,
            jobs=dict(state.jobs),
            known=set(state.known_owners),
            finished=dict(state.finished),
            horizons=dict(state.horizons),
            index=self._polls,
        )
        self._polls += 1
        try:
            feeds = await self._plan(users, work)
            answered = await self._read_lists(feeds, work)
            await self._catch_up(feeds, answered, work)
            await self._settle_missing(feeds, answered, users, work)
        except _Outage as outage:
            return self._abandon(outage, users, started)

        self._health = _Backoff()
        retention = started - self.finished_retention
        work.finished = {n: t for n, t in work.finished.items() if t >= retention}
        new_state = WatchState(
            jobs=work.jobs,
            known_owners=frozenset(work.known),
            finished=work.finished,
            horizons=work.horizons,
        )
        calls = CallCount(work.lists, work.statuses, self._team_lookups, work.catch_ups)
        if work.events:
            logger.info(
                "poll: %d users, %d feeds, %d events, %d calls",
                len(users),
                len(feeds),
                len(work.events),
                calls.total,
            )
        return Cycle(
            events=tuple(work.events),
            state=new_state,
            calls=calls,
            failures=tuple(work.failures),
            healthy=not work.failures,
            started_at=started,
            users=len(users),
            feeds=len(feeds),
        )

    def _abandon(
        self, outage: _Outage, users: Sequence[WatchedUser], started: float
    ) -> Cycle:
        self._health.failures += 1
        delay = self.next_delay()
        logger.warning(
            "JARVICE is failing (%s); next poll in %.0f s",
            type(outage.error).__name__,
            delay,
        )
        failure = FeedFailure(
            username="*",
            team=False,
            error=str(outage.error),
            error_type=type(outage.error).__name__,
            retry_at=started + delay,
        )
        return Cycle(
            events=(),
            state=self._state,
            calls=CallCount(0, 0, self._team_lookups),
            failures=(failure,),
            healthy=False,
            started_at=started,
            users=len(users),
            feeds=0,
        )

    # Planning: which list calls cover which users.

    async def _plan(self, users: Sequence[WatchedUser], work: _Poll) -> list[_Feed]:
        feeds: list[_Feed] = []
        for user in users:
            work.viewers_by_owner.setdefault(user.username, set()).add(user.username)
            for number in user.jobs:
                work.viewers_by_job.setdefault(number, set()).add(user.username)
        for user in users:
            if not user.team:
                continue
            members = await self._team_members(user, work.now)
            if members is None:
                continue
            for member in members | {user.username}:
                if user.owners is None or member in user.owners:
                    viewers = work.viewers_by_owner.setdefault(member, set())
                    viewers.add(user.username)
            if any(user.username in feed.covered for feed in feeds):
                continue
            interest = None if user.owners is None else set(user.owners)
            covered = set(members) | {user.username}
            feed = _Feed(user, True, interest, covered, {user.username: user})
            feeds.append(feed)

        for user in users:
            home = next((f for f in feeds if user.username in f.covered), None)
            if home is None:
                own = {user.username}
                feeds.append(_Feed(user, False, own, own, {user.username: user}))
                continue
            if home.user is user:
                continue
            home.members[user.username] = user
            if home.interest is not None:
                if user.team and user.owners is None:
                    home.interest = None
                else:
                    home.interest |= {user.username} | set(user.owners or ())
        return feeds

    async def _team_members(
        self, user: WatchedUser, now: float
    ) -> frozenset[str] | None:
        """The other members of a team admin's team; None if not a team admin."""
        cached = self._teams.get(user.username)
        if cached is not None and cached[1] > now:
            return cached[0]
        self._team_lookups += 1
        try:
            listing = await self.client.for_caller(user.caller).teamusers()
        except errors.JarviceError as error:
            if _is_outage(error):
                if cached is not None:
                    return cached[0]
                raise _Outage(error) from None
            logger.info(
                "%s cannot list a team (%s); following their own jobs only",
                user.username,
                type(error).__name__,
            )
            self._teams[user.username] = (None, now + self.team_refresh)
            return None
        members = frozenset(listing.root)
        self._teams[user.username] = (members, now + self.team_refresh)
        return members

    # Reading the lists.

    async def _read_lists(
        self, feeds: Sequence[_Feed], work: _Poll
    ) -> dict[str, JobList]:
        due = [
            feed
            for feed in feeds
            if self._feed_backoff.get(feed.key, _Backoff()).retry_at <= work.now
        ]
        work.lists += len(due)
        results = await self._gather([self._list_call(feed) for feed in due])
        answered: dict[str, JobList] = {}
        for feed, result in zip(due, results, strict=True):
            if isinstance(result, errors.JarviceError):
                if _is_outage(result):
                    raise _Outage(result)
                self._feed_failed(feed.user, feed.team, result, work)
                continue
            self._feed_backoff.pop(feed.key, None)
            answered[feed.key] = result
            self._compare(feed, result, work)
        return answered

    def _list_call(self, feed: _Feed) -> Callable[[], Awaitable[JobList]]:
        client = self.client.for_caller(feed.user.caller)
        return client.teamjobs if feed.team else client.jobs

    async def _gather(
        self, calls: Sequence[Callable[[], Awaitable[_T]]]
    ) -> list[_T | errors.JarviceError]:
        """Run API calls, `concurrency` at a time; each result or its error,
        in order. An outage cancels the calls not yet answered."""
        results: list[_T | errors.JarviceError] = []
        if not calls:
            return results
        slots: dict[int, _T | errors.JarviceError] = {}
        limiter = anyio.CapacityLimiter(self.concurrency)

        async def one(index: int, call: Callable[[], Awaitable[_T]]) -> None:
            async with limiter:
                try:
                    slots[index] = await call()
                except errors.JarviceError as error:
                    slots[index] = error
                    if _is_outage(error):
                        group.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(one, index, call)
        outage = next(
            (r for r in slots.values() if isinstance(r, errors.JarviceError)
             and _is_outage(r)),
            None,
        )  # fmt: skip
        if outage is not None:
            raise _Outage(outage)
        return [slots[index] for index in range(len(calls))]

    def _feed_failed(
        self, user: WatchedUser, team: bool, error: errors.JarviceError, work: _Poll
    ) -> None:
        key = f"{'team' if team else 'own'}:{user.username}"
        backoff = self._feed_backoff.setdefault(key, _Backoff())
        backoff.failures += 1
        delay = min(self.max_backoff, self.interval * 2**backoff.failures)
        backoff.retry_at = work.now + delay
        logger.warning(
            "job list of %s failed (%s); retrying it in %.0f s",
            user.username,
            type(error).__name__,
            delay,
        )
        work.failures.append(
            FeedFailure(
                username=user.username,
                team=team,
                error=str(error),
                error_type=type(error).__name__,
                retry_at=backoff.retry_at,
            )
        )

    def _compare(self, feed: _Feed, listing: JobList, work: _Poll) -> None:
        """Turn one job list into events against what was known before."""
        explicit = feed.explicit()
        owners: set[str] = set()
        for number, entry in sorted(listing.root.items()):
            owner = entry.job_owner_username or (
                None if feed.team else feed.user.username
            )
            if number in work.finished or not feed.wants(owner, number, explicit):
                continue
            if owner is not None:
                owners.add(owner)
            seen_by = self._seen_by(feed, owner, number)
            before = work.jobs.get(number)
            status = entry.job_status
            tracked = TrackedJob(
                number=number,
                owner=owner,
                status=status,
                job=_trim(entry),
                seen_by=seen_by,
                explicit=number in explicit or bool(before and before.explicit),
            )
            if before is None:
                baseline = owner not in work.known and not tracked.explicit
                work.jobs[number] = tracked
                if baseline:
                    if is_final(status):
                        work.jobs.pop(number)
                    continue
                self._first_sight(tracked, work)
                continue
            work.jobs[number] = tracked
            if status != before.status:
                self._changed(tracked, before.status, work)
        work.known |= owners | (
            feed.covered if feed.interest is None else feed.interest
        )

    def _first_sight(self, tracked: TrackedJob, work: _Poll) -> None:
        if is_final(tracked.status):
            work.emit(EventKind.FINISHED, tracked, None)
        elif tracked.status == RUNNING_STATUS:
            work.emit(EventKind.STARTED, tracked, None)
        else:
            work.emit(EventKind.QUEUED, tracked, None)

    def _changed(self, tracked: TrackedJob, previous: str, work: _Poll) -> None:
        if is_final(tracked.status):
            work.emit(EventKind.FINISHED, tracked, previous)
        elif tracked.status == RUNNING_STATUS:
            work.emit(EventKind.STARTED, tracked, previous)
        elif previous == RUNNING_STATUS:
            work.emit(EventKind.QUEUED, tracked, previous)

    @staticmethod
    def _seen_by(feed: _Feed, owner: str | None, number: int) -> str:
        if owner is not None and owner in feed.members:
            return owner
        for member in feed.members.values():
            if number in member.jobs:
                return member.username
        return feed.user.username

    # Catching up: jobs that started and ended between two polls.

    async def _catch_up(
        self, feeds: Sequence[_Feed], answered: dict[str, JobList], work: _Poll
    ) -> None:
        """Read the completed lists due this poll and report the jobs in
        them that ended unseen; a list whose read fails waits for its turn."""
        due = [f for f in feeds if f.key in answered and self._catch_up_due(f, work)]
        work.catch_ups += len(due)
        results = await self._gather([self._completed_call(feed) for feed in due])
        for feed, result in zip(due, results, strict=True):
            if isinstance(result, errors.JarviceError):
                logger.warning(
                    "completed jobs of %s could not be read (%s); trying again "
                    "at their next turn",
                    feed.user.username,
                    type(result).__name__,
                )
                continue
            if self._catch_up_at[feed.key] <= work.index:
                self._catch_up_at[feed.key] = work.index + self.catch_up_every
            work.completed[feed.key] = result
            self._report_unseen(feed, result, work)

    def _catch_up_due(self, feed: _Feed, work: _Poll) -> bool:
        """The feed's turn (feeds take turns over `catch_up_every` polls), or
        a baseline read for users without a horizon."""
        if feed.key not in self._catch_up_at:
            turn = self._turns % self.catch_up_every
            self._turns += 1
            self._catch_up_at[feed.key] = work.index + self.catch_up_every - turn
        if self._catch_up_at[feed.key] <= work.index:
            return True
        return any(owner not in work.horizons for owner in feed.owners())

    def _completed_call(self, feed: _Feed) -> Callable[[], Awaitable[JobList]]:
        client = self.client.for_caller(feed.user.caller)
        listing = client.teamjobs if feed.team else client.jobs
        return functools.partial(listing, completed=True)

    def _report_unseen(self, feed: _Feed, listing: JobList, work: _Poll) -> None:
        """Report the completed jobs above their owner's horizon that were
        neither followed nor reported, then move the feed's horizons on."""
        explicit = feed.explicit()
        for number, entry in sorted(listing.root.items()):
            owner = entry.job_owner_username or (
                None if feed.team else feed.user.username
            )
            horizon = work.horizons.get(owner or "")
            if horizon is None or number <= horizon.floor:
                continue
            if number in work.finished or number in work.jobs:
                continue
            if not is_final(entry.job_status) or not feed.wants(
                owner, number, explicit
            ):
                continue
            tracked = TrackedJob(
                number=number,
                owner=owner,
                status=entry.job_status,
                job=_trim(entry),
                seen_by=self._seen_by(feed, owner, number),
                explicit=number in explicit,
            )
            work.emit(EventKind.FINISHED, tracked, None)
        latest = max(listing.root, default=0)
        for owner in feed.owners():
            before = work.horizons.get(owner)
            work.horizons[owner] = (
                Horizon(latest, latest) if before is None else before.after(latest)
            )

    # Jobs that left their list, and explicit jobs never listed.

    async def _settle_missing(
        self,
        feeds: Sequence[_Feed],
        answered: dict[str, JobList],
        users: Sequence[WatchedUser],
        work: _Poll,
    ) -> None:
        """Learn how jobs that left their list ended.

        A job's own status is asked with its owner's credentials when the
        owner is watched; JARVICE shows a job's status only to its owner, so
        a team member's job that nobody here can ask about is looked up in
        one `/teamjobs completed=true` call for the whole team.
        """
        by_name = {user.username: user for user in users}
        singles: list[tuple[TrackedJob, WatchedUser]] = []
        via_team: dict[str, tuple[_Feed, list[TrackedJob]]] = {}
        for tracked in list(work.jobs.values()):
            feed = _responsible(feeds, tracked)
            if feed is None:
                work.jobs.pop(tracked.number)
                logger.info("job %d is no longer watched", tracked.number)
                continue
            listing = answered.get(feed.key)
            if listing is None or tracked.number in listing.root:
                continue
            completed = work.completed.get(feed.key)
            if completed is not None and tracked.number in completed.root:
                self._settled(tracked, _trim(completed.root[tracked.number]), work)
                continue
            asker = _asker(tracked, feed, by_name)
            if feed.team and asker is feed.user and tracked.owner != asker.username:
                via_team.setdefault(feed.key, (feed, []))[1].append(tracked)
            else:
                singles.append((tracked, asker))

        for user in users:
            for number in sorted(user.jobs):
                if number in work.jobs or number in work.finished:
                    continue
                singles.append((_placeholder(number, user.username), user))

        work.statuses += len(singles)
        answers = await self._gather(
            [self._status_call(tracked, asker) for tracked, asker in singles]
        )
        for (tracked, asker), answer in zip(singles, answers, strict=True):
            self._settle(tracked, asker, answer, work)
        for feed, missing in via_team.values():
            await self._settle_from_team(feed, missing, work)

    def _status_call(
        self, tracked: TrackedJob, asker: WatchedUser
    ) -> Callable[[], Awaitable[JobStatusMap]]:
        client = self.client.for_caller(asker.caller)
        return functools.partial(client.status, tracked.number)

    def _settle(
        self,
        tracked: TrackedJob,
        asker: WatchedUser,
        answer: JobStatusMap | errors.JarviceError,
        work: _Poll,
    ) -> None:
        if isinstance(answer, errors.NotFound):
            work.jobs.pop(tracked.number, None)
            logger.info(
                "job %d vanished for %s; no longer followed",
                tracked.number,
                asker.username,
            )
            return
        if isinstance(answer, errors.JarviceError):
            self._settle_failed(tracked.number, asker.username, answer, work)
            return
        status = next(iter(answer.root.values()))
        self._settled(tracked, _merge_status(tracked.number, tracked.job, status), work)

    async def _settle_from_team(
        self, feed: _Feed, missing: Sequence[TrackedJob], work: _Poll
    ) -> None:
        done = work.completed.get(feed.key)
        if done is None:
            done = await self._read_team_completed(feed, missing, work)
        if done is None:
            return
        for tracked in missing:
            entry = done.root.get(tracked.number)
            if entry is None:
                work.jobs.pop(tracked.number, None)
                logger.info(
                    "job %d left the team list of %s unfinished; no longer followed",
                    tracked.number,
                    feed.user.username,
                )
                continue
            self._settled(tracked, _trim(entry), work)

    async def _read_team_completed(
        self, feed: _Feed, missing: Sequence[TrackedJob], work: _Poll
    ) -> JobList | None:
        work.statuses += 1
        client = self.client.for_caller(feed.user.caller)
        try:
            return await client.teamjobs(completed=True)
        except errors.JarviceError as error:
            if _is_outage(error):
                raise _Outage(error) from None
            for tracked in missing:
                self._settle_failed(tracked.number, feed.user.username, error, work)
            return None

    def _settled(self, tracked: TrackedJob, job: JobEntry, work: _Poll) -> None:
        known = tracked.number in work.jobs
        updated = replace(tracked, status=job.job_status, job=job)
        if is_final(job.job_status):
            work.emit(EventKind.FINISHED, updated, tracked.status if known else None)
            return
        work.jobs[tracked.number] = updated
        if not known:
            self._first_sight(updated, work)
        elif job.job_status != tracked.status:
            self._changed(updated, tracked.status, work)

    def _settle_failed(
        self, number: int, username: str, error: errors.JarviceError, work: _Poll
    ) -> None:
        logger.warning(
            "status of job %d for %s failed (%s); asking again next poll",
            number,
            username,
            type(error).__name__,
        )
        work.failures.append(
            FeedFailure(
                username=username,
                team=False,
                error=str(error),
                error_type=type(error).__name__,
                retry_at=work.now + self.interval,
            )
        )


def _placeholder(number: int, username: str) -> TrackedJob:
    """An explicitly watched job not yet seen in any list."""
    return TrackedJob(
        number=number,
        owner=None,
        status="SUBMITTED",
        job=JobEntry(job_number=number, job_name="", job_status="SUBMITTED"),
        seen_by=username,
        explicit=True,
    )


def _merge(users: Iterable[WatchedUser]) -> list[WatchedUser]:
    """One entry per username: team if any asks for it, interests and jobs joined."""
    merged: dict[str, WatchedUser] = {}
    for user in users:
        seen = merged.get(user.username)
        if seen is None:
            merged[user.username] = user
            continue
        team = seen.team or user.team
        if not team:
            owners = None
        elif seen.team and user.team:
            owners = (
                None
                if seen.owners is None or user.owners is None
                else seen.owners | user.owners
            )
        else:
            owners = seen.owners if seen.team else user.owners
        merged[user.username] = replace(
            seen, team=team, owners=owners, jobs=seen.jobs | user.jobs
        )
    return list(merged.values())


def _responsible(feeds: Sequence[_Feed], tracked: TrackedJob) -> _Feed | None:
    """The feed whose list should show this job this poll, if any."""
    owner = tracked.owner
    for feed in feeds:
        if owner is not None and owner in feed.covered:
            wanted = feed.wants(owner, tracked.number, feed.explicit())
            return feed if wanted or tracked.explicit else None
    if tracked.explicit:
        for feed in feeds:
            if tracked.seen_by in feed.members:
                return feed
    return None


def _asker(
    tracked: TrackedJob, feed: _Feed, users: dict[str, WatchedUser]
) -> WatchedUser:
    """Whose credentials ask for a job's status: its owner's when we have them."""
    if tracked.owner is not None and tracked.owner in users:
        return users[tracked.owner]
    return feed.members.get(tracked.seen_by, feed.user)


def _trim(entry: JobEntry) -> JobEntry:
    """A job entry without the bulky parts (the submission, the prices)."""
    kept = {name: getattr(entry, name) for name in _KEPT_FIELDS}
    if entry.job_mc_name is None and entry.job_api_submission:
        machine = entry.job_api_submission.get("machine")
        if isinstance(machine, dict):
            kept["job_api_submission"] = {"machine": machine}
    return JobEntry.model_validate(kept)


def _merge_status(number: int, entry: JobEntry, status: JobStatus) -> JobEntry:
    """The last list entry with the fields of a fresher /status answer."""
    update: dict[str, object] = {
        name: getattr(status, name)
        for name in _STATUS_FIELDS
        if getattr(status, name) is not None
    }
    update["job_number"] = number
    if not entry.job_name:
        update["job_name"] = status.job_name
    return entry.model_copy(update=update)
