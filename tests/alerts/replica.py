"""One alert-service process, for the tests that kill or race real processes.

    python -m tests.alerts.replica --database URL --jarvice URL --slack URL \\
        --holder NAME [--hang-at after-post|in-transaction --marker PATH]

The encryption key comes from JARVICE_TOOLS_ENCRYPTION_KEY. With --hang-at,
the process writes the marker file when it reaches that point and then
waits forever, so that the test can kill it there with SIGKILL. SIGTERM
stops it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import Any

import anyio
from slack_sdk.web.async_client import AsyncWebClient

from jarvice_tools import JarviceClient, RetryPolicy
from slack_bot.alerts import AlertService, AlertSettings
from slack_bot.store import KeyBox, Store

SETTINGS = AlertSettings(
    poll_interval=0.2,
    lease_seconds=1.0,
    pace_seconds=0.0,
    burst=0,
    slack_timeout=2.0,
    clock_skew=0.5,
)


def hang_at(service: AlertService, point: str, marker: Path) -> None:
    """Make the process stop dead at `point` (after telling the test)."""

    async def hang(*args: Any, **kwargs: Any) -> Any:
        await anyio.Path(marker).write_text(point)
        await asyncio.Event().wait()

    if point == "after-post":
        service.outbox.sent = hang  # type: ignore[method-assign]
    elif point == "in-transaction":
        import slack_bot.alerts.ledger as ledger

        queue_direct = ledger._queue_direct

        async def hang_with_alerts(connection: Any, plan: ledger.Plan) -> int:
            if plan.finals:
                await hang()
            return await queue_direct(connection, plan)

        ledger._queue_direct = hang_with_alerts
    else:
        raise SystemExit(f"unknown --hang-at point {point!r}")


async def main(options: argparse.Namespace) -> None:
    keys = KeyBox(os.environ["JARVICE_TOOLS_ENCRYPTION_KEY"])
    store = await Store.open(options.database, keys=keys)
    retry = RetryPolicy(attempts=1)
    async with JarviceClient(options.jarvice, retry=retry, timeout=10) as jarvice:
        slack = AsyncWebClient(
            token="xoxb-test", base_url=options.slack, retry_handlers=[]
        )
        service = AlertService(
            store=store,
            jarvice=jarvice,
            slack=slack,
            settings=SETTINGS,
            admins=("UADMIN",),
            holder=options.holder,
        )
        if options.hang_at:
            hang_at(service, options.hang_at, Path(options.marker))
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, service.stop)
        await service.run()
    await store.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    parser = argparse.ArgumentParser()
    for name in ("--database", "--jarvice", "--slack", "--holder"):
        parser.add_argument(name, required=True)
    parser.add_argument("--hang-at")
    parser.add_argument("--marker")
    asyncio.run(main(parser.parse_args()))
