"""The alert service: leader election, the poll loop and the sender.

Every replica runs `AlertService.run()`. The one holding the poller lease
polls JARVICE, records each poll (state, ledger, outbox) and sends the
outbox; the others retry the lease every third of its length and take over
when it expires. Commands (`slack_bot.alerts.commands`) work on every
replica: they only read and write subscriptions and preferences.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

import anyio
import sqlalchemy as sa
from slack_sdk.web.async_client import AsyncWebClient

from jarvice_tools import errors
from jarvice_tools.client import JarviceClient
from jarvice_tools.metrics import time_poll
from jarvice_tools.settings import Caller
from jarvice_tools.summaries import BoundedText, bound_text
from jarvice_tools.watch import Cycle, EventKind, JobEvent, WatchedUser, Watcher
from slack_bot.alerts import messages, wording
from slack_bot.alerts.config import AlertSettings
from slack_bot.alerts.lease import Lease, LeaseLost
from slack_bot.alerts.ledger import Delivery, Ledger, Owner, Plan
from slack_bot.alerts.outbox import Dropped, Kind, Outbox, enqueue
from slack_bot.alerts.preferences import Notify, Preferences
from slack_bot.alerts.sender import Sender
from slack_bot.alerts.subscriptions import (
    Origin,
    Scope,
    StoreUsers,
    Subscription,
    Subscriptions,
    matches,
)
from slack_bot.alerts.tables import alert_threads
from slack_bot.store import Store, insert_ignore, utcnow

__all__ = ["AlertService"]

logger = logging.getLogger("slack_bot.alerts")

OUTPUT_BYTES = 2500
KEEP_MESSAGES = dt.timedelta(days=7)
"""Settled outbox rows and job threads are forgotten after this long."""
KEEP_DELIVERIES = dt.timedelta(days=30)
"""Ledger rows are kept this long: far longer than a finished job can be
reported again (the watcher forgets finished jobs after a day)."""
PRUNE_EVERY = 3600.0
STORE_ERRORS = (sa.exc.SQLAlchemyError, OSError)


class AlertService:
    """Job-completion alerts for one Slack workspace."""

    def __init__(
        self,
        *,
        store: Store,
        jarvice: JarviceClient,
        slack: AsyncWebClient,
        settings: AlertSettings | None = None,
        admins: Sequence[str] = (),
        holder: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings or AlertSettings()
        self.store = store
        self.jarvice = jarvice
        self.admins = tuple(admins)
        engine = store.engine
        self.subscriptions = Subscriptions(engine)
        self.preferences = Preferences(engine)
        self.lease = Lease(
            engine, seconds=self.settings.lease_seconds, holder=holder, clock=clock
        )
        self.clock = clock
        self.ledger = Ledger(engine, self.lease, clock=clock)
        self.outbox = Outbox(engine, clock=clock)
        self.users = StoreUsers(self.subscriptions, store.links)
        self.watcher = Watcher(
            jarvice,
            self.users,
            interval=self.settings.poll_interval,
            max_backoff=self.settings.max_backoff,
            catch_up_every=self.settings.catch_up_every,
        )
        self.sender = Sender(
            self.outbox,
            slack,
            self.lease,
            self.settings,
            on_channel_gone=self.channel_gone,
            clock=clock,
        )
        self._stopped = False
        self._stop_event: anyio.Event | None = None
        self._pruned_at = -PRUNE_EVERY

    # Running.

    async def run(self) -> None:
        """Lead when the lease is free, follow otherwise, until `stop()`."""
        self._stopped = False
        self._stop_event = anyio.Event()
        period = self.settings.lease_seconds / 3
        try:
            while not self._stopped:
                if await self._try_lease():
                    try:
                        await self.lead()
                    except Exception:
                        logger.exception("alerting failed; starting again shortly")
                await self._pause(period)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self.lease.release()
                except STORE_ERRORS:
                    logger.warning("could not release the poller lease")

    def stop(self) -> None:
        """Finish the step in progress, release the lease, return from `run`."""
        self._stopped = True
        if self._stop_event is not None:
            self._stop_event.set()
        self.sender.stop()

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once on `stop()`."""
        if self._stopped or self._stop_event is None:
            return
        with anyio.move_on_after(seconds):
            await self._stop_event.wait()

    async def _try_lease(self) -> bool:
        try:
            return await self.lease.acquire()
        except STORE_ERRORS as error:
            logger.warning("the lease could not be checked (%s)", type(error).__name__)
            return False

    async def lead(self) -> None:
        """Poll and send while this replica holds the lease (and runs)."""
        self.watcher.restore(await self.ledger.load_state())
        if self._stopped:
            return
        self.sender.resume()
        logger.info("%s polls JARVICE for alerts", self.lease.holder)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._keep_lease, group.cancel_scope)
                group.start_soon(self._poll_forever)
                group.start_soon(self.sender.run)
        except* LeaseLost:
            logger.warning("%s stopped polling: the lease was lost", self.lease.holder)

    async def _keep_lease(self, scope: anyio.CancelScope) -> None:
        period = self.settings.lease_seconds / 3
        while not self._stopped:
            await self._pause(period)
            if self._stopped:
                return
            if await self._try_lease():
                continue
            if not self.lease.held():
                self.sender.stop()
                scope.cancel()
                return

    async def _poll_forever(self) -> None:
        """Poll on a fixed schedule: each poll starts one interval (or one
        backoff) after the previous one started, however long it took."""
        while not self._stopped:
            started = anyio.current_time()
            try:
                await self.poll_once()
                await self._prune_now_and_then(started)
            except STORE_ERRORS:
                logger.exception("a poll could not be recorded; it will recur")
            took = anyio.current_time() - started
            await self._pause(max(0.0, self.watcher.next_delay() - took))

    async def _prune_now_and_then(self, now: float) -> None:
        if now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        moment = self.clock()
        removed = await self.outbox.prune(
            messages_before=moment - KEEP_MESSAGES,
            deliveries_before=moment - KEEP_DELIVERIES,
        )
        if removed:
            logger.info("forgot %d old alert rows", removed)

    async def poll_once(self) -> Cycle:
        """One poll, recorded (raises `LeaseLost` when not the leader)."""
        previous = self.watcher.state
        with time_poll():
            cycle = await self.watcher.poll()
        plan = await self.plan(cycle)
        await self.ledger.record(previous, cycle, plan)
        self.watcher.accept(cycle)
        self.sender.wake()
        return cycle

    # Working out what to say.

    async def plan(self, cycle: Cycle) -> Plan:
        """Which channels hear of which events, and what the alerts show.

        Only the subscriptions read when the poll began take part, and only
        their job watches end with this poll's finished jobs; a watch set
        up while the poll ran is told at the next one (`_late_watches`)."""
        subscriptions = self.users.current
        plan = Plan()
        for event in cycle.events:
            if event.kind is EventKind.FINISHED:
                plan.finals += _deliveries(event, subscriptions, failures=True)
            elif event.kind is EventKind.STARTED:
                plan.starts += _deliveries(event, subscriptions, failures=False)
        finished = {e.number for e in cycle.events if e.kind is EventKind.FINISHED}
        plan.ended_watches = _watches_of(subscriptions, finished)
        late, settled = await self._late_watches(cycle, subscriptions, finished)
        plan.finals += late
        plan.ended_watches += settled
        channels = {d.channel_id for d in plan.finals + plan.starts}
        plan.settings = await self.preferences.channels(channels)
        plan.starts = [d for d in plan.starts if plan.settings[d.channel_id].starts]
        events = {d.event.number: d.event for d in plan.finals + plan.starts}
        plan.owners = await self._owners(list(events.values()))
        plan.outputs = await self._outputs(plan.finals)
        return plan

    async def _late_watches(
        self,
        cycle: Cycle,
        subscriptions: Sequence[Subscription],
        finished: set[int],
    ) -> tuple[list[Delivery], list[int]]:
        """Alerts for job watches whose job the watcher reported finished in
        an earlier poll (so the watch was set up after that poll began):
        how the job ended is asked again, once, with the subscriber's
        credentials. The alerts, and the watches whose job's end was learnt."""
        reported = set(cycle.state.finished) - finished
        late = [
            s
            for s in subscriptions
            if s.scope is Scope.JOB and s.job_number in reported
        ]
        jobs: dict[str, set[int]] = {}
        for subscription in late:
            if subscription.job_number is not None:
                jobs.setdefault(subscription.jarvice_username, set()).add(
                    subscription.job_number
                )
        deliveries: list[Delivery] = []
        settled: list[int] = []
        for username, numbers in sorted(jobs.items()):
            caller = self.users.callers.get(username)
            if caller is None:
                continue
            theirs = [s for s in late if s.jarvice_username == username]
            watched = WatchedUser(caller, jobs=frozenset(numbers))
            for event in await self.watcher.final_states(watched):
                deliveries += _deliveries(event, theirs, failures=True)
                settled += _watches_of(theirs, {event.number})
        return deliveries, settled

    async def _owners(self, events: Sequence[JobEvent]) -> dict[int, Owner]:
        owners: dict[int, Owner] = {}
        by_name: dict[str, tuple[str | None, Notify]] = {}
        for event in events:
            name = event.owner or event.seen_by
            if name not in by_name:
                links = await self.store.links.for_jarvice_user(name)
                slack_id = links[0].slack_user_id if links else None
                notify = Notify.NONE
                if slack_id is not None:
                    notify = (await self.preferences.notify([slack_id]))[slack_id]
                by_name[name] = (slack_id, notify)
            slack_id, notify = by_name[name]
            owners[event.number] = Owner(name, slack_id, notify)
        return owners

    async def _outputs(
        self, finals: Sequence[Delivery]
    ) -> dict[int, BoundedText | str]:
        """The last output lines of failed jobs not yet alerted anywhere."""
        lines = self.settings.output_lines
        failed = {
            d.event.number: d.event for d in finals if d.event.status != "COMPLETED"
        }
        if not failed or lines == 0:
            return {}
        pending = await self.ledger.undelivered(
            (d.event.number, d.event.status, d.channel_id)
            for d in finals
            if d.event.number in failed
        )
        outputs: dict[int, BoundedText | str] = {}
        for number in sorted(pending):
            event = failed[number]
            caller = self._caller_for(event)
            if caller is None:
                continue
            try:
                text = await self.jarvice.for_caller(caller).output(number, lines=lines)
            except errors.JarviceError as error:
                outputs[number] = wording.output_error(error)
                continue
            outputs[number] = bound_text(text, max_lines=lines, max_bytes=OUTPUT_BYTES)
        return outputs

    def _caller_for(self, event: JobEvent) -> Caller | None:
        callers = self.users.callers
        return callers.get(event.owner or "") or callers.get(event.seen_by)

    # Reacting to Slack.

    async def channel_gone(
        self, channel: str, code: str, dropped: Sequence[Dropped] = ()
    ) -> None:
        """The bot cannot post to `channel`: end its subscriptions and tell
        the administrators and whoever set up the alerts concerned (the
        subscriptions turned off, and those whose `dropped` alerts were not
        posted, such as a job watch that already ended)."""
        existing = await self.subscriptions.in_channel(channel)
        ended = await self.subscriptions.end(
            [s.id for s in existing], reason=f"slack {code}"
        )
        jobs = sorted({d.job_number for d in dropped})
        if not ended and not jobs:
            return
        asked = await self.subscriptions.with_ids(
            d.subscription_id for d in dropped if d.subscription_id is not None
        )
        recipients = _recipients(self.admins, [*existing, *asked])
        text = wording.channel_gone_notice(
            channel, code, turned_off=len(ended), jobs=jobs
        )
        last_drop = max((d.outbox_id for d in dropped), default=0)
        key = f"notice:{channel}:{code}:{max(ended, default=0)}:{last_drop}"
        await self._tell(recipients, text, key=key)
        logger.warning(
            "cannot post to %s (%s): %d subscriptions turned off, %d alerts "
            "dropped; told %d people",
            channel,
            code,
            len(ended),
            len(jobs),
            len(recipients),
        )
        self.sender.wake()

    async def _tell(self, recipients: Sequence[str], text: str, *, key: str) -> None:
        """Queue one direct message to each recipient (once per key)."""
        async with self.store.engine.begin() as connection:
            for recipient in recipients:
                await enqueue(
                    connection,
                    now=self.clock(),
                    key=f"{key}:{recipient}",
                    kind=Kind.NOTICE,
                    channel=recipient,
                    args=messages.notice(text),
                )

    async def job_submitted(
        self,
        *,
        channel_id: str,
        slack_user_id: str,
        jarvice_username: str,
        number: int,
        message_ts: str | None = None,
    ) -> Subscription:
        """The hook for jobs submitted from Slack: watch the job in the
        channel it came from. `message_ts` is a public message about the
        submission, if one was posted, under which the alert is threaded."""
        subscription, _ = await self.subscriptions.add(
            channel_id=channel_id,
            slack_user_id=slack_user_id,
            jarvice_username=jarvice_username,
            scope=Scope.JOB,
            job_number=number,
            origin=Origin.SUBMIT,
        )
        if message_ts:
            async with self.store.engine.begin() as connection:
                await insert_ignore(
                    connection,
                    alert_threads,
                    {
                        "channel_id": channel_id,
                        "job_number": number,
                        "ts": message_ts,
                        "created_at": utcnow(),
                    },
                    key=("channel_id", "job_number"),
                )
        return subscription


def _recipients(
    admins: Sequence[str], subscriptions: Sequence[Subscription]
) -> list[str]:
    """The administrators, then whoever set up these subscriptions."""
    chosen = list(dict.fromkeys(admins))
    for subscription in subscriptions:
        if subscription.slack_user_id not in chosen:
            chosen.append(subscription.slack_user_id)
    return chosen


def _watches_of(subscriptions: Sequence[Subscription], jobs: set[int]) -> list[int]:
    """The job watches, among `subscriptions`, of these jobs."""
    return [
        s.id for s in subscriptions if s.scope is Scope.JOB and s.job_number in jobs
    ]


def _deliveries(
    event: JobEvent, subscriptions: Sequence[Subscription], *, failures: bool
) -> list[Delivery]:
    """One delivery per channel with a matching subscription (the first)."""
    chosen: dict[str, Delivery] = {}
    for subscription in subscriptions:
        if not failures and subscription.failures_only:
            continue
        if subscription.channel_id in chosen or not matches(subscription, event):
            continue
        chosen[subscription.channel_id] = Delivery(
            event, subscription.channel_id, subscription.id
        )
    return list(chosen.values())
