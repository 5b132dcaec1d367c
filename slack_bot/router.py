"""`/jarvice <name> [args]`: from the command text to the code that answers.

The router holds one `Subcommand` per name: one for every action of the
tool layer's registry (`status`, `tail`, `terminate`, ...), the app's own
(`help`, `login`, `logout`, `whoami`, `audit-log`), and any that other
modules add.

Extension point
---------------
A module adds subcommands by registering them on the bot's router, usually
from its `setup(bot)` function (see `slack_bot.bot`)::

    from slack_bot.router import CommandContext, Reply, Subcommand

    async def watch(ctx: CommandContext) -> Reply:
        words = split_words(ctx.text, action="watch")     # slack_bot.args
        ...
        return Reply("Watching job 42 here.", detail="job=42")

    bot.router.register(
        Subcommand(
            name="watch",
            usage="watch <job>",
            summary="Post here when job <job> finishes.",
            help="Longer text shown by /jarvice help watch.",
            handler=watch,
            group="Alerts",
        )
    )

Help (`/jarvice help`, `/jarvice help watch`) and "did you mean" pick the
new name up. A handler runs after the request has been acknowledged, so it
may take its time; it gets a `CommandContext` (who, where, the caller's
JARVICE client when `needs_link`) and returns a `Reply` (sent ephemerally
through `respond`) or None when it answered by itself. A `prepare`
function, if given, runs before the acknowledgement: it must be quick and
pure (no I/O), and may raise `ArgumentError` to refuse bad input at once;
what it returns is `ctx.prepared`. Every run is written to the audit log
with the Reply's `outcome` and `detail` (never put a secret in them).
"""

from __future__ import annotations

import difflib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from jarvice_tools.client import JarviceClient
from jarvice_tools.errors import JarviceError
from jarvice_tools.redact import redact
from jarvice_tools.settings import Caller
from slack_bot import messages
from slack_bot.args import ArgumentError, describe_arguments, plain_word
from slack_bot.store import AuditEntry

if TYPE_CHECKING:
    from slack_bot.bot import SlackBot

__all__ = [
    "CommandContext",
    "CommandRouter",
    "Handler",
    "Reply",
    "Subcommand",
]

logger = logging.getLogger("slack_bot")

Handler = Callable[["CommandContext"], Awaitable["Reply | None"]]
Prepare = Callable[[str], Any]


@dataclass
class Reply:
    """What a subcommand answers, and how the audit log records it."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    outcome: str = "ok"
    detail: str | None = None
    response_type: str = "ephemeral"
    replace_original: bool = False

    def without(self, *secrets: str) -> Reply:
        """This reply with each secret masked (a last line of defence)."""
        secrets = tuple(s for s in secrets if s)
        if not secrets:
            return self
        masked = json.loads(redact(json.dumps(self.__dict__), *secrets))
        return Reply(**masked)

    def message(self) -> dict[str, Any]:
        """Keyword arguments for `respond()`."""
        message: dict[str, Any] = {
            "text": self.text,
            "response_type": self.response_type,
            "replace_original": self.replace_original,
        }
        if self.blocks is not None:
            message["blocks"] = self.blocks
        return message


@dataclass(frozen=True)
class Subcommand:
    """One `/jarvice <name>`: its help and the code that answers it."""

    name: str
    usage: str
    summary: str
    handler: Handler
    help: str = ""
    group: str = messages.HELP_SLACK_GROUP
    needs_link: bool = True
    """Refuse users who have not linked a JARVICE account (nothing is sent)."""
    admin: bool = False
    """Only for SLACK_ADMIN_USERS; others get a refusal saying why."""
    prepare: Prepare | None = None
    """Quick, pure check of the text before the ack; may raise ArgumentError."""
    mark: str = ""
    """Shown after the name in help (e.g. the confirmation mark)."""
    params: type[BaseModel] | None = None
    """The parameter model help describes field by field, if any."""
    notes: tuple[str, ...] = ()
    """Extra lines at the end of the help page."""
    button: bool = False
    """May run from a run button (a read: a click runs it at once)."""


@dataclass
class CommandContext:
    """One run of a subcommand: who asked, where, and how to answer."""

    bot: SlackBot
    subcommand: Subcommand
    text: str
    user_id: str
    team_id: str | None
    channel_id: str | None
    trigger_id: str | None
    response_url: str | None
    respond: AsyncRespond
    client: AsyncWebClient
    prepared: Any = None
    caller: Caller | None = None
    jarvice: JarviceClient | None = None
    audit_arguments: str = ""
    started: float = field(default_factory=time.perf_counter)

    @property
    def name(self) -> str:
        return self.subcommand.name

    def need_jarvice(self) -> JarviceClient:
        """The caller's JARVICE client (set for `needs_link` subcommands)."""
        if self.jarvice is None:
            raise RuntimeError(f"{self.name} runs without a linked JARVICE user")
        return self.jarvice


@dataclass(frozen=True)
class _Plan:
    """What to do with one command, decided before the ack."""

    subcommand: Subcommand | None
    text: str
    prepared: Any = None
    early: Reply | None = None
    arguments: str = ""


class CommandRouter:
    """Name -> Subcommand, plus the Bolt listener for `/jarvice`."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot
        self._commands: dict[str, Subcommand] = {}

    def register(self, subcommand: Subcommand) -> None:
        """Add a subcommand; a name may be registered once."""
        name = subcommand.name
        if not name or name != name.strip().lower() or " " in name:
            raise ValueError(f"subcommand names are one lower-case word: {name!r}")
        if name in self._commands:
            raise ValueError(f"/jarvice {name} is already registered")
        self._commands[name] = subcommand

    def get(self, name: str) -> Subcommand | None:
        return self._commands.get(name)

    @property
    def subcommands(self) -> list[Subcommand]:
        """Every subcommand, in registration order."""
        return list(self._commands.values())

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, self._commands, n=1, cutoff=0.6)
        return close[0] if close else None

    # The Bolt listener.

    async def handle_command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """Listener for `/jarvice`: decide, ack within Slack's 3 s, then work."""
        plan = self.plan(str(command.get("text") or ""))
        if plan.early is not None:
            await ack(**_ack_arguments(plan.early))
            await self.record_early(
                plan,
                plan.early,
                kind="command",
                user_id=str(command.get("user_id", "")),
                team_id=command.get("team_id"),
                channel_id=command.get("channel_id"),
            )
            return
        await ack()
        assert plan.subcommand is not None
        ctx = CommandContext(
            bot=self.bot,
            subcommand=plan.subcommand,
            text=plan.text,
            user_id=str(command.get("user_id", "")),
            team_id=command.get("team_id"),
            channel_id=command.get("channel_id"),
            trigger_id=command.get("trigger_id"),
            response_url=command.get("response_url"),
            respond=respond,
            client=client,
            prepared=plan.prepared,
            audit_arguments=plan.arguments,
        )
        await self.run(ctx)

    def plan(self, text: str) -> _Plan:
        """Find the subcommand and check its arguments (no I/O)."""
        name, _, rest = text.strip().partition(" ")
        name = name.lower()
        rest = rest.strip()
        if not name or name in ("help", "-h", "--help", "?"):
            help_command = self._commands["help"]
            return _Plan(help_command, rest, early=self.bot.help.reply(rest))
        subcommand = self._commands.get(name)
        if subcommand is None:
            suggestion = self.suggest(name)
            shown = plain_word(name)
            reply = Reply(
                messages.unknown_action(shown, suggestion),
                outcome="unknown",
                detail=f"suggested {suggestion}" if suggestion else None,
            )
            return _Plan(None, rest, early=reply, arguments=shown or "(not shown)")
        if rest.lower() in ("help", "-h", "--help", "?"):
            return _Plan(subcommand, rest, early=self.bot.help.reply(name))
        keys_only = describe_arguments(None, rest)
        if subcommand.prepare is None:
            return _Plan(subcommand, rest, arguments=keys_only)
        try:
            prepared = subcommand.prepare(rest)
        except ArgumentError as error:
            usage, required = self.bot.help.usage(subcommand)
            reply = Reply(
                messages.bad_arguments(name, error.problems, usage, required),
                outcome="invalid",
                detail="; ".join(p.field for p in error.problems)[:300],
            )
            return _Plan(subcommand, rest, early=reply, arguments=keys_only)
        if isinstance(prepared, BaseModel):
            return _Plan(
                subcommand, rest, prepared, arguments=describe_arguments(prepared)
            )
        return _Plan(subcommand, rest, prepared, arguments=keys_only)

    async def run(self, ctx: CommandContext, *, kind: str = "command") -> None:
        """Gate, run the handler, answer, and record the outcome (`kind` is
        command, or click for a button that runs a command)."""
        reply = await self._gate(ctx)
        if reply is None:
            reply = await self._call(ctx)
        if reply is not None and ctx.caller is not None:
            reply = reply.without(ctx.caller.credentials.apikey.get_secret_value())
        if reply is not None:
            await self.bot.send(ctx.respond, reply)
        outcome = reply.outcome if reply else "ok"
        secret = ctx.caller.credentials.apikey.get_secret_value() if ctx.caller else ""
        elapsed = (time.perf_counter() - ctx.started) * 1000
        logger.info(
            "/jarvice %s by %s (%s) -> %s in %.0f ms",
            ctx.name,
            ctx.user_id,
            ctx.caller.username if ctx.caller else "unlinked",
            outcome,
            elapsed,
        )
        await self.bot.record(
            AuditEntry(
                kind=kind,
                slack_user_id=ctx.user_id,
                slack_team_id=ctx.team_id,
                channel_id=ctx.channel_id,
                jarvice_username=ctx.caller.username if ctx.caller else None,
                action=ctx.name,
                arguments=redact(ctx.audit_arguments, secret),
                outcome=outcome,
                detail=redact(reply.detail, secret) if reply and reply.detail else None,
            )
        )

    async def _gate(self, ctx: CommandContext) -> Reply | None:
        """The admin gate and the link check, before any handler runs."""
        if ctx.subcommand.admin and not self.bot.is_admin(ctx.user_id):
            return Reply(
                messages.admin_only(ctx.name, ctx.user_id), outcome="forbidden"
            )
        if not ctx.subcommand.needs_link:
            return None
        caller = await self.bot.caller(ctx.user_id)
        if caller is None:
            return Reply(messages.NOT_LINKED, outcome="unlinked")
        ctx.caller = caller
        ctx.jarvice = self.bot.jarvice.for_caller(caller)
        return None

    async def _call(self, ctx: CommandContext) -> Reply | None:
        try:
            return await ctx.subcommand.handler(ctx)
        except JarviceError as error:
            return Reply(
                messages.jarvice_error(str(error)),
                outcome=f"error:{type(error).__name__}",
                detail=str(error)[:300],
            )
        except Exception:
            reference = secrets.token_hex(4)
            logger.exception(
                "/jarvice %s by %s failed (reference %s)",
                ctx.name,
                ctx.user_id,
                reference,
            )
            return Reply(
                messages.internal_error(reference),
                outcome="error:internal",
                detail=f"reference {reference}",
            )

    async def record_early(
        self,
        plan: _Plan,
        reply: Reply,
        *,
        kind: str,
        user_id: str,
        team_id: str | None,
        channel_id: str | None,
    ) -> None:
        """Audit a command or click answered without running a handler."""
        name = plan.subcommand.name if plan.subcommand else "(unknown)"
        await self.bot.record(
            AuditEntry(
                kind=kind,
                slack_user_id=user_id,
                slack_team_id=team_id,
                channel_id=channel_id,
                action=name,
                arguments=plan.arguments,
                outcome=reply.outcome,
                detail=reply.detail,
            )
        )


def _ack_arguments(reply: Reply) -> dict[str, Any]:
    arguments: dict[str, Any] = {"text": reply.text, "response_type": "ephemeral"}
    if reply.blocks is not None:
        arguments["blocks"] = reply.blocks
    return arguments
