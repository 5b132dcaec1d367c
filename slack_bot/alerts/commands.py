"""`/jarvice watch|subscribe|subscriptions|unsubscribe|alerts|notify`.

Each subcommand checks its words before Slack's acknowledgement (`prepare`,
no I/O) and does its work afterwards. `watch` and `subscribe` act with the
asker's own JARVICE account: the job or team must be visible to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from jarvice_tools import errors
from jarvice_tools.errors import FieldProblem
from slack_bot.alerts import wording
from slack_bot.alerts.preferences import Notify
from slack_bot.alerts.service import AlertService
from slack_bot.alerts.subscriptions import Scope, Subscription
from slack_bot.args import ArgumentError, ParsedWords, split_words
from slack_bot.router import CommandContext, CommandRouter, Reply, Subcommand

__all__ = ["register"]

GROUP = "Job alerts"
_SWITCHES = {"on": True, "off": False, "true": True, "false": False}
_SETTING_NAMES = {
    "threads": "threads",
    "broadcast": "broadcast",
    "starts": "starts",
    "summaries": "summarise",
}


@dataclass(frozen=True)
class WatchRequest:
    number: int


@dataclass(frozen=True)
class SubscribeRequest:
    scope: Scope
    owner: str | None
    failures_only: bool
    app: str | None


@dataclass(frozen=True)
class UnsubscribeRequest:
    ids: tuple[int, ...]
    everything: bool


# Checking the words (before the acknowledgement; no I/O).


def _problem(action: str, field: str, message: str) -> ArgumentError:
    return ArgumentError([FieldProblem(field, message)], action=action)


def _no_extra(action: str, words: ParsedWords, allowed: set[str]) -> None:
    for key in words.named:
        if key not in allowed:
            valid = ", ".join(sorted(allowed)) or "no key=value arguments"
            raise _problem(action, key, wording.not_an_argument(action, valid))


def prepare_watch(text: str) -> WatchRequest:
    words = split_words(text, action="watch")
    _no_extra("watch", words, {"number"})
    given = words.named.get("number") or next(iter(words.positional), None)
    if len(words.positional) > (0 if "number" in words.named else 1):
        raise _problem("watch", "number", wording.job_number_needed(None))
    digits = (given or "").lstrip("#")
    if not digits.isdigit() or int(digits) < 1:
        raise _problem("watch", "number", wording.job_number_needed(given))
    return WatchRequest(int(digits))


def prepare_subscribe(text: str) -> SubscribeRequest:
    words = split_words(text, action="subscribe")
    _no_extra("subscribe", words, {"who", "user", "status", "app"})
    scope, owner, failures = Scope.MINE, None, False
    who = words.named.get("who")
    if "user" in words.named:
        who = who or "user"
        owner = words.named["user"].strip()
        if not owner:
            raise _problem("subscribe", "user", "needs a JARVICE user name")
    for word in words.positional:
        lowered = word.lower()
        if lowered in ("mine", "team"):
            who = lowered
        elif lowered in ("failures", "failed", "all"):
            words.named.setdefault("status", lowered)
        else:
            raise _problem(
                "subscribe",
                "text",
                wording.not_understood(
                    word, "mine, team, user=<name>, failures or all"
                ),
            )
    if who is not None:
        choice = who.lower()
        if choice in ("mine", "me"):
            scope = Scope.MINE
        elif choice == "team":
            scope = Scope.TEAM
        elif choice == "user" and owner:
            scope = Scope.USER
        else:
            scope, owner = Scope.USER, who
    status = words.named.get("status", "all").lower()
    if status not in ("all", "failures", "failed"):
        raise _problem(
            "subscribe", "status", wording.must_be("all or failures", status)
        )
    failures = status != "all"
    app = words.named.get("app", "").strip() or None
    return SubscribeRequest(scope, owner, failures, app)


def prepare_unsubscribe(text: str) -> UnsubscribeRequest:
    words = split_words(text, action="unsubscribe")
    _no_extra("unsubscribe", words, set())
    if [w.lower() for w in words.positional] == ["all"]:
        return UnsubscribeRequest((), True)
    ids = []
    for word in words.positional:
        digits = word.lstrip("#")
        if not digits.isdigit():
            raise _problem("unsubscribe", "id", wording.subscription_id_needed(word))
        ids.append(int(digits))
    if not ids:
        raise _problem("unsubscribe", "id", wording.subscription_id_needed(None))
    return UnsubscribeRequest(tuple(ids), False)


def prepare_alerts(text: str) -> dict[str, bool]:
    words = split_words(text, action="alerts")
    _no_extra("alerts", words, set(_SETTING_NAMES))
    if words.positional:
        raise _problem(
            "alerts",
            "text",
            wording.not_understood(
                words.positional[0], "threads=, broadcast=, starts= or summaries="
            ),
        )
    changes = {}
    for key, value in words.named.items():
        switch = _SWITCHES.get(value.lower())
        if switch is None:
            raise _problem("alerts", key, wording.must_be("on or off", value))
        changes[_SETTING_NAMES[key]] = switch
    return changes


def prepare_notify(text: str) -> Notify | None:
    words = split_words(text, action="notify")
    _no_extra("notify", words, set())
    if not words.positional:
        return None
    choice = words.positional[0].lower()
    if len(words.positional) > 1 or choice not in {n.value for n in Notify}:
        raise _problem(
            "notify",
            "choice",
            wording.must_be("mention, dm or none", choice),
        )
    return Notify(choice)


# Doing the work.


class AlertCommands:
    def __init__(self, service: AlertService) -> None:
        self.service = service

    async def watch(self, ctx: CommandContext) -> Reply:
        request: WatchRequest = ctx.prepared
        caller = _linked(ctx)
        jarvice = ctx.need_jarvice()
        number, status = (await jarvice.status(request.number)).only()
        if status.is_final:
            return Reply(
                wording.already_ended(number, status.job_status),
                outcome="ended",
                detail=f"job={number}",
            )
        subscription, created = await self.service.subscriptions.add(
            channel_id=_channel(ctx),
            slack_user_id=ctx.user_id,
            jarvice_username=caller,
            scope=Scope.JOB,
            job_number=number,
        )
        detail = f"job={number} subscription={subscription.id}"
        if not created:
            return Reply(
                wording.already_watching(number), outcome="exists", detail=detail
            )
        return Reply(
            wording.watching(number, status.job_name, status.job_status),
            detail=detail,
        )

    async def subscribe(self, ctx: CommandContext) -> Reply:
        request: SubscribeRequest = ctx.prepared
        me = _linked(ctx)
        owner = request.owner
        scope = request.scope
        if scope is Scope.USER and owner == me:
            scope, owner = Scope.MINE, None
        if scope in (Scope.TEAM, Scope.USER):
            refusal = await self._check_team(ctx, scope, owner)
            if refusal is not None:
                return refusal
        subscription, created = await self.service.subscriptions.add(
            channel_id=_channel(ctx),
            slack_user_id=ctx.user_id,
            jarvice_username=me,
            scope=scope,
            owner=owner if scope is Scope.USER else me,
            failures_only=request.failures_only,
            app=request.app,
        )
        detail = f"subscription={subscription.id} scope={scope.value}"
        if not created:
            return Reply(
                wording.already_subscribed(subscription.id),
                outcome="exists",
                detail=detail,
            )
        return Reply(
            wording.subscribed(subscription.id, _describe(subscription)),
            detail=detail,
        )

    async def _check_team(
        self, ctx: CommandContext, scope: Scope, owner: str | None
    ) -> Reply | None:
        what = "your team's jobs" if scope is Scope.TEAM else f"{owner}'s jobs"
        try:
            members = await ctx.need_jarvice().teamusers()
        except (errors.ApiError, errors.MalformedResponse) as error:
            reason = type(error).__name__
            if isinstance(error, errors.ApiError):
                reason = f"{error.status_code}: {error.server_message}"
            text = wording.team_admin_needed(what, reason, team=scope is Scope.TEAM)
            return Reply(text, outcome="forbidden")
        if scope is Scope.USER and owner not in members.root:
            return Reply(wording.not_in_team(owner or ""), outcome="forbidden")
        return None

    async def list(self, ctx: CommandContext) -> Reply:
        found = await self.service.subscriptions.in_channel(_channel(ctx))
        if not found:
            return Reply(wording.NO_SUBSCRIPTIONS, outcome="empty")
        lines = [wording.subscriptions_heading(len(found))]
        lines += [
            wording.subscription_line(s.id, _describe(s), s.slack_user_id)
            for s in found
        ]
        lines.append(wording.subscriptions_footer())
        return Reply("\n".join(lines), detail=f"count={len(found)}")

    async def unsubscribe(self, ctx: CommandContext) -> Reply:
        request: UnsubscribeRequest = ctx.prepared
        channel = _channel(ctx)
        ids: list[int] = list(request.ids)
        if request.everything:
            ids = [s.id for s in await self.service.subscriptions.in_channel(channel)]
        ended = await self.service.subscriptions.end(
            ids, reason=f"removed by {ctx.user_id}", channel_id=channel
        )
        missing = [i for i in ids if i not in ended]
        if not ended:
            given = "all" if request.everything else f"#{missing[0]}"
            return Reply(wording.no_such_subscription(given), outcome="not-found")
        return Reply(
            wording.unsubscribed(ended),
            detail="ended=" + ",".join(str(i) for i in ended),
        )

    async def alerts(self, ctx: CommandContext) -> Reply:
        changes: dict[str, bool] = ctx.prepared
        channel = _channel(ctx)
        current = await self.service.preferences.channel(channel)
        if changes:
            current = current.changed(**changes)
            await self.service.preferences.set_channel(channel, current, by=ctx.user_id)
        text = wording.channel_settings(
            current.threads, current.broadcast, current.starts, current.summarise
        )
        detail = ",".join(f"{k}={v}" for k, v in sorted(changes.items())) or None
        return Reply(text, outcome="changed" if changes else "ok", detail=detail)

    async def notify(self, ctx: CommandContext) -> Reply:
        choice: Notify | None = ctx.prepared
        if choice is None:
            current = (await self.service.preferences.notify([ctx.user_id]))[
                ctx.user_id
            ]
            return Reply(wording.notify_current(current.value))
        await self.service.preferences.set_notify(ctx.user_id, choice)
        return Reply(wording.notify_set(choice.value), detail=f"notify={choice.value}")


def _linked(ctx: CommandContext) -> str:
    if ctx.caller is None:
        raise RuntimeError(f"{ctx.name} runs only for linked users")
    return ctx.caller.username


def _channel(ctx: CommandContext) -> str:
    if not ctx.channel_id:
        raise RuntimeError(f"{ctx.name} needs the channel it was run in")
    return ctx.channel_id


def _describe(subscription: Subscription) -> str:
    return wording.describe_subscription(
        subscription.scope.value,
        subscription.owner,
        subscription.job_number,
        subscription.failures_only,
        subscription.app,
        subscription.jarvice_username,
    )


def register(router: CommandRouter, service: AlertService) -> AlertCommands:
    """Add the alert subcommands to the Slack app's router."""
    commands = AlertCommands(service)
    entries = (
        ("watch", "watch <job>", wording.WATCH_SUMMARY, commands.watch,
         prepare_watch, True, ""),
        ("subscribe", "subscribe [mine|team|user=<name>] [status=all|failures] "
         "[app=<id>]", wording.SUBSCRIBE_SUMMARY, commands.subscribe,
         prepare_subscribe, True, wording.SUBSCRIBE_HELP),
        ("subscriptions", "subscriptions", wording.SUBSCRIPTIONS_SUMMARY,
         commands.list, None, False, ""),
        ("unsubscribe", "unsubscribe <id>|all", wording.UNSUBSCRIBE_SUMMARY,
         commands.unsubscribe, prepare_unsubscribe, False, ""),
        ("alerts", "alerts [threads=on|off] [broadcast=on|off] [starts=on|off] "
         "[summaries=on|off]", wording.ALERTS_SUMMARY, commands.alerts,
         prepare_alerts, False, ""),
        ("notify", "notify [mention|dm|none]", wording.NOTIFY_SUMMARY,
         commands.notify, prepare_notify, False, ""),
    )  # fmt: skip
    for name, usage, summary, handler, prepare, needs_link, text in entries:
        router.register(
            Subcommand(
                name=name,
                usage=usage,
                summary=summary,
                handler=handler,
                help=text,
                group=GROUP,
                needs_link=needs_link,
                prepare=prepare,
            )
        )
    return commands
