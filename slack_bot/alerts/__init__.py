"""Job-completion alerts for the Slack app.

`setup(bot)` (called by `slack_bot.bot.load_extensions`) registers the
alert subcommands, watches jobs submitted from Slack in their channel, and
starts the alert service with the app: on every replica it competes for
the poller lease; the holder polls JARVICE (`jarvice_tools.watch`) and
sends alerts. See docs/alerts.md.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from pydantic import ValidationError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bot.alerts.commands import register
from slack_bot.alerts.config import AlertSettings
from slack_bot.alerts.service import AlertService
from slack_bot.settings import SettingsError

if TYPE_CHECKING:
    from slack_bot.bot import JobSubmitted, SlackBot

__all__ = ["AlertService", "AlertSettings", "load_settings", "setup"]

logger = logging.getLogger("slack_bot.alerts")

STOP_TIMEOUT = 15.0
"""Seconds a shutdown waits for the poll or Slack call in progress."""


def load_settings() -> AlertSettings:
    """`ALERTS_*` settings; a bad value stops start-up naming the variable."""
    try:
        return AlertSettings()
    except ValidationError as error:
        problems = [
            f"ALERTS_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}."
            for e in error.errors(include_input=False)
        ]
        raise SettingsError(problems) from None


def setup(bot: SlackBot) -> AlertService:
    """Wire the alerts into the Slack app (an extension's entry point)."""
    settings = load_settings()
    slack = AsyncWebClient(
        token=bot.slack.token,
        base_url=bot.slack.base_url,
        timeout=int(settings.slack_timeout),
        retry_handlers=[],
    )
    service = AlertService(
        store=bot.store,
        jarvice=bot.jarvice,
        slack=slack,
        settings=settings,
        admins=sorted(bot.settings.admin_users),
    )
    register(bot.router, service)

    async def watch_submitted(event: JobSubmitted) -> None:
        if not event.channel_id:
            return
        await service.job_submitted(
            channel_id=event.channel_id,
            slack_user_id=event.slack_user_id,
            jarvice_username=event.jarvice_username,
            number=event.number,
        )

    bot.on_job_submitted(watch_submitted)
    if settings.enabled:
        running: list[asyncio.Task[None]] = []

        async def start() -> None:
            running.append(asyncio.create_task(service.run(), name="jarvice-alerts"))

        async def stop() -> None:
            service.stop()
            for task in running:
                try:
                    await asyncio.wait_for(task, timeout=STOP_TIMEOUT)
                except TimeoutError:
                    logger.warning("the alert service did not stop in time")
                except asyncio.CancelledError:
                    pass
            running.clear()

        bot.on_startup(start)
        bot.on_shutdown(stop)
    else:
        logger.info("alerts are off in this process (ALERTS_ENABLED=false)")
    return service
