"""Time from a job ending to its alert at the (fake) Slack Web API.

The whole alert service runs as the Slack app runs it (SQLite store, the
poller lease, the watcher, the ledger, the outbox and its paced sender) with
a 5 s poll interval, against the sandbox holding 1,000 running jobs across 50
users; each user's jobs are subscribed to in the user's own channel. Jobs
are ended one at a time at random moments (half of them failing, whose
alerts carry the job's last output lines: one more API call each), and the
time from ending a job to the arrival of its alert at the fake Slack is
recorded. Then ten jobs of one user end at once: that channel gets one
summary and the ten alerts in its thread, paced at one post per 1.1 s.

Settings: bare loopback, and TLS with 20 ms added to every JARVICE answer.
Goal: every alert within one poll interval + 1 s.

Run: `.venv/bin/python -m bench alerts_latency [--record]`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import random
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from slack_sdk.web.async_client import AsyncWebClient

from bench.alerts_watch import JOBS_PER_USER, USERS, caller, populate, tls_client
from bench.client_vs_jarviceclient3 import self_signed
from jarvice_tools import JarviceClient, RetryPolicy
from jarvice_tools.sandbox import SandboxServer
from slack_bot.alerts import AlertService, AlertSettings
from slack_bot.alerts.subscriptions import Scope
from slack_bot.store import KeyBox, Store
from slack_bot.testing import FakeSlack

INTERVAL = 5.0
SAMPLES = 30
BURST = 10
LATENCY = 0.02
SEED = 7


def alert_times(fake: FakeSlack) -> dict[int, float]:
    """Job number -> when its final alert reached the fake Slack."""
    found: dict[int, float] = {}
    for call in fake.calls("chat.postMessage"):
        metadata = call.body.get("metadata") or {}
        key = str((metadata.get("event_payload") or {}).get("key", ""))
        if key.startswith("final:"):
            found.setdefault(int(key.split(":")[1]), call.at)
    return found


def summary_times(fake: FakeSlack, channel: str) -> list[float]:
    return [
        call.at
        for call in fake.calls("chat.postMessage")
        if call.body.get("channel") == channel
        and str(call.body.get("text", "")).endswith("details in the thread.")
    ]


async def wait_until(condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the alerts did not all arrive in time")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_service(
    server: SandboxServer, client: JarviceClient, fake: FakeSlack, folder: str
) -> AsyncIterator[tuple[AlertService, dict[str, list[int]]]]:
    key = Fernet.generate_key().decode()
    store = await Store.open(f"sqlite:///{folder}/alerts.sqlite3", keys=KeyBox(key))
    names = [f"lat{n:02d}" for n in range(USERS)]
    for name in names:
        server.add_account(name)
    jobs = await populate(server, client, names)
    for index, name in enumerate(names):
        slack_id = f"UBENCH{index:02d}"
        await store.links.save(slack_id, caller(server, name).credentials)
        await _subscribe(store, name, slack_id, f"CBENCH{index:02d}")
    settings = AlertSettings(poll_interval=INTERVAL)
    slack = AsyncWebClient(token="xoxb-bench", base_url=fake.api_url, retry_handlers=[])
    service = AlertService(store=store, jarvice=client, slack=slack, settings=settings)
    task = asyncio.create_task(service.run())
    try:
        await wait_until(
            lambda: len(service.watcher.state.jobs) == len(names) * JOBS_PER_USER, 60
        )
        yield service, jobs
    finally:
        service.stop()
        await asyncio.wait_for(task, 30)
        await store.close()


async def _subscribe(store: Store, name: str, slack_id: str, channel: str) -> None:
    from slack_bot.alerts.subscriptions import Subscriptions

    await Subscriptions(store.engine).add(
        channel_id=channel,
        slack_user_id=slack_id,
        jarvice_username=name,
        scope=Scope.MINE,
        owner=name,
    )


async def one_setting(
    label: str, server: SandboxServer, client: JarviceClient, fake: FakeSlack
) -> dict[str, Any]:
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as folder:
        async with running_service(server, client, fake, folder) as (_service, jobs):
            names = sorted(jobs)
            ended: dict[int, float] = {}
            burst_user, others = names[0], names[1:]
            for index in range(SAMPLES):
                name = rng.choice(others)
                number = jobs[name].pop()
                status = "COMPLETED WITH ERROR" if index % 2 else "COMPLETED"
                ended[number] = time.time()
                server.set_status(number, status)
                await asyncio.sleep(rng.uniform(0.2, 2.2))
            await wait_until(lambda: set(ended) <= set(alert_times(fake)), 60)

            burst = [jobs[burst_user].pop() for _ in range(BURST)]
            burst_at = time.time()
            for number in burst:
                server.set_status(number, "COMPLETED")
            await wait_until(lambda: set(burst) <= set(alert_times(fake)), 120)

    arrived = alert_times(fake)
    delays = sorted(arrived[n] - at for n, at in ended.items())
    channel = f"CBENCH{names.index(burst_user):02d}"
    summary = summary_times(fake, channel)
    return {
        "setting": label,
        "delays": delays,
        "summary": (summary[0] - burst_at) if summary else None,
        "last": max(arrived[n] for n in burst) - burst_at,
    }


async def run() -> str:
    results = []
    with FakeSlack() as fake, SandboxServer(clock="manual") as server:
        async with JarviceClient(server.url, retry=RetryPolicy(attempts=2)) as client:
            results.append(await one_setting("loopback", server, client, fake))
    with self_signed() as (cert, key), FakeSlack() as fake:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        with SandboxServer(
            clock="manual", latency=LATENCY, ssl_context=context
        ) as server:
            async with tls_client(cert, server.url) as client:
                results.append(await one_setting("TLS + 20 ms", server, client, fake))
    return report(results)


def report(results: list[dict[str, Any]]) -> str:
    today = dt.date.today().isoformat()
    goal = INTERVAL + 1
    lines = [
        f"### Alerts: time from a job ending to its alert ({today})",
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}. "
        "Command: `python -m bench alerts_latency`. The alert service (SQLite "
        "store, lease, watcher, ledger, outbox, paced sender) against the "
        f"sandbox with 1,000 running jobs across 50 users, poll interval "
        f"{INTERVAL:.0f} s; {SAMPLES} jobs ended one at a time at random moments "
        "(half failing, with output lines), each user's alerts in its own "
        f"channel; then {BURST} jobs of one user at once. Goal: every alert "
        f"within one poll interval + 1 s ({goal:.0f} s).",
        "",
        "| setting | alerts | median s | 90th percentile s | max s | max vs goal "
        f"| burst of {BURST}: summary s | burst: last alert s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        delays: list[float] = result["delays"]
        p90 = delays[int(0.9 * (len(delays) - 1))]
        summary = result["summary"]
        lines.append(
            f"| {result['setting']} | {len(delays)} | "
            f"{statistics.median(delays):.2f} | {p90:.2f} | {max(delays):.2f} | "
            f"{max(delays) / goal:.2f}x | "
            f"{summary:.2f} | {result['last']:.2f} |"
            if summary is not None
            else f"| {result['setting']} | {len(delays)} | - | - | - | - | - | - |"
        )
    lines += [
        "",
        "A job ending just after a poll waits almost a full interval for the "
        "next one, so the spread of the single alerts is the poll phase; the "
        "rest is the poll itself (50 job lists, the status and output calls), "
        "recording it, and one Slack call. The burst's alerts go out one per "
        "1.1 s in the summary's thread (Slack's per-channel pace), so the last "
        f"of {BURST} arrives about {BURST + 1} posts after the poll that saw them.",
    ]
    return "\n".join(lines)


def main() -> None:
    text = asyncio.run(run())
    print(text)
    if "--record" in sys.argv:
        results = Path(__file__).with_name("RESULTS.md")
        with results.open("a") as out:
            out.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
