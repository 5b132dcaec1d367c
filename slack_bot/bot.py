"""`SlackBot`: what one running Slack app shares, and what extensions get.

An extension is a module with a `setup(bot: SlackBot) -> None` function,
named in `EXTENSIONS` (the alerts package, `slack_bot.alerts`, is one). In
`setup` it may:

- register subcommands: `bot.router.register(Subcommand(...))`
  (see `slack_bot.router`);
- learn of jobs submitted from Slack: `bot.on_job_submitted(hook)`, where
  `hook(event: JobSubmitted)` is async and gets the job number and name,
  the Slack user, team and channel it came from, and the JARVICE user;
- run background work: `bot.on_startup(fn)` / `bot.on_shutdown(fn)` (async,
  no arguments), called when the server starts and stops;
- handle its own buttons and forms on `bot.app` (the Bolt `AsyncApp`);
- use `bot.store` (the SQL store), `bot.jarvice` (the shared JARVICE client:
  `bot.jarvice.for_caller(caller)` acts for one user), `bot.caller(user_id)`
  (a linked user's `Caller`, or None), `bot.slack` (the Slack Web API
  client), `bot.record(AuditEntry(...))` and `bot.settings`.

Buttons in messages that run a read-only command for whoever clicks (e.g.
"Full output" on an alert) need no handler of their own: use
`slack_bot.render.run_button(label, "output 42 lines=0")`. A click runs
only subcommands registered with `button=True` (the registry's reads,
`help`, `whoami`); others are refused, and every click is audited.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from jarvice_tools.client import JarviceClient
from jarvice_tools.settings import Caller
from slack_bot.forms import AppDefCache
from slack_bot.help import HelpBook
from slack_bot.router import CommandRouter, Reply
from slack_bot.settings import SlackSettings
from slack_bot.store import AuditEntry, Store

__all__ = ["EXTENSIONS", "JobSubmitted", "SlackBot", "load_extensions"]

logger = logging.getLogger("slack_bot")

EXTENSIONS = ("slack_bot.alerts",)
"""Modules whose `setup(bot)` runs at start, when they are installed."""


@dataclass(frozen=True)
class JobSubmitted:
    """A job submitted from Slack (by command or form), after JARVICE took it."""

    number: int
    name: str
    action: str
    """batch or submit."""
    slack_user_id: str
    slack_team_id: str | None
    channel_id: str | None
    jarvice_username: str
    application: str | None = None


JobSubmittedHook = Callable[[JobSubmitted], Awaitable[None]]
LifecycleHook = Callable[[], Awaitable[None]]


class SlackBot:
    """The Slack app's shared state: settings, store, clients, router, hooks."""

    def __init__(
        self,
        *,
        settings: SlackSettings,
        store: Store,
        jarvice: JarviceClient,
        app: AsyncApp,
    ) -> None:
        self.settings = settings
        self.store = store
        self.jarvice = jarvice
        self.app = app
        self.router = CommandRouter(self)
        self.help = HelpBook(self.router)
        self.appdefs = AppDefCache()
        self._submitted: list[JobSubmittedHook] = []
        self._startup: list[LifecycleHook] = []
        self._shutdown: list[LifecycleHook] = []

    @property
    def slack(self) -> AsyncWebClient:
        """The Slack Web API client (bot token, SLACK_API_URL)."""
        return self.app.client

    # Identity.

    def is_admin(self, slack_user_id: str) -> bool:
        return slack_user_id in self.settings.admin_users

    async def caller(self, slack_user_id: str) -> Caller | None:
        """The linked JARVICE user of a Slack user, with the admin flag the
        deployment gives them, or None when not linked."""
        credentials = await self.store.links.credentials(slack_user_id)
        if credentials is None:
            return None
        return Caller(credentials=credentials, admin=self.is_admin(slack_user_id))

    # Hooks.

    def on_job_submitted(self, hook: JobSubmittedHook) -> None:
        self._submitted.append(hook)

    def on_startup(self, hook: LifecycleHook) -> None:
        self._startup.append(hook)

    def on_shutdown(self, hook: LifecycleHook) -> None:
        self._shutdown.append(hook)

    async def job_submitted(self, event: JobSubmitted) -> None:
        """Tell every hook; one that fails is logged and the others still run."""
        for hook in self._submitted:
            try:
                await hook(event)
            except Exception:
                logger.exception(
                    "job-submitted hook %s failed for job %d",
                    getattr(hook, "__qualname__", hook),
                    event.number,
                )

    async def start(self) -> None:
        for hook in self._startup:
            await hook()

    async def stop(self) -> None:
        for hook in reversed(self._shutdown):
            try:
                await hook()
            except Exception:
                logger.exception("shutdown hook %s failed", hook)

    # Answering and recording.

    async def send(self, respond: AsyncRespond, reply: Reply) -> None:
        """Answer through `respond` (a response_url); failures are logged."""
        try:
            response = await respond(**reply.message())
        except (TimeoutError, SlackClientError, OSError) as error:
            logger.warning("could not answer through response_url: %s", error)
            return
        if response.status_code != 200:
            logger.warning(
                "response_url answered %d: %s", response.status_code, response.body
            )

    async def record(self, entry: AuditEntry) -> None:
        """Write an audit entry; a failing database is logged, not raised."""
        try:
            await self.store.audit.record(entry)
        except Exception:
            logger.exception(
                "could not write the audit entry for %s by %s",
                entry.action,
                entry.slack_user_id,
            )

    async def upload_privately(
        self,
        slack_user_id: str,
        *,
        content: bytes,
        filename: str,
        title: str,
        comment: str | None = None,
    ) -> None:
        """Upload a file into the user's direct messages with the app, so
        only they see it (Slack's external upload flow)."""
        opened = await self.slack.conversations_open(users=[slack_user_id])
        channel: dict[str, Any] = opened.get("channel") or {}
        await self.slack.files_upload_v2(
            channel=str(channel["id"]),
            file=content,
            filename=filename,
            title=title,
            initial_comment=comment,
        )


def load_extensions(bot: SlackBot, names: Iterable[str] = EXTENSIONS) -> list[str]:
    """Run `setup(bot)` of each installed extension; returns those loaded."""
    loaded = []
    for name in names:
        try:
            found = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            found = None
        if found is None:
            logger.debug("extension %s is not installed", name)
            continue
        module = importlib.import_module(name)
        setup = getattr(module, "setup", None)
        if setup is None:
            logger.warning("extension %s has no setup(bot); skipped", name)
            continue
        setup(bot)
        loaded.append(name)
    return loaded
