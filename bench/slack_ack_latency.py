"""Ack latency of `/jarvice status` while JARVICE takes 5 s to answer.

The whole app runs as `jarvice-slack` runs it (uvicorn, Bolt's ASGI
adapter, signature and replay checks, the SQLite store), against the fake
Slack Web API and the sandbox as JARVICE, all on loopback. Three requests
alternate in rounds (A B C A B C ...):

- A: `/jarvice status N` while the sandbox delays its /status answer by 5 s;
- B: `/jarvice status N` with no delay (the baseline for A);
- C: `/jarvice help`, answered in the ack itself (the floor of the stack).

The figure is the time from sending the signed request to receiving the
HTTP response (the ack), on a kept-alive connection. Every A must still be
answered through its response_url after the delay; the run checks that.

Run: `.venv/bin/python -m bench slack_ack_latency [--record]`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.settings import Credentials
from slack_bot.settings import SlackSettings
from slack_bot.store import Store
from slack_bot.testing import FakeSlack, SlackRequests
from slack_bot.testing.server import ServedBot

ROUNDS = 20
DELAY = 5.0
SECRET = "bench-signing-secret"
USER = "UBENCH01"


def _settings(fake: FakeSlack, sandbox: SandboxServer, database: str) -> SlackSettings:
    return SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "JARVICE_API_URL": sandbox.url,
            "JARVICE_TOOLS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "DATABASE_URL": database,
        }
    )


async def _link(settings: SlackSettings, sandbox: SandboxServer) -> None:
    account = sandbox.account("alice")
    keys = settings.key_box()
    async with await Store.open(settings.database_url, keys=keys) as store:
        credentials = Credentials(username="alice", apikey=SecretStr(account.apikey))
        await store.links.save(USER, credentials)


def _running_job(sandbox: SandboxServer) -> int:
    account = sandbox.account("alice")
    body = {
        "container": {"image": "library/ubuntu:jammy", "jobscript": "sleep 600"},
        "machine": {"type": "n3", "nodes": 2},
        "user": {"username": "alice", "apikey": account.apikey},
    }
    answer = httpx.post(f"{sandbox.url}/jarvice/batch", json=body, timeout=10)
    answer.raise_for_status()
    number = int(answer.json()["number"])
    sandbox.set_status(number, "PROCESSING STARTING")
    return number


def measure() -> tuple[dict[str, list[float]], float]:
    """Ack times in ms per request kind, and the longest wait for an answer."""
    acks: dict[str, list[float]] = {"A": [], "B": [], "C": []}
    delayed: list[tuple[str, float]] = []
    with (
        tempfile.TemporaryDirectory() as folder,
        FakeSlack() as fake,
        SandboxServer(clock="manual") as sandbox,
    ):
        settings = _settings(fake, sandbox, f"{folder}/bench.sqlite3")
        asyncio.run(_link(settings, sandbox))
        number = _running_job(sandbox)
        requests = SlackRequests(SECRET, responses=fake)
        with ServedBot(settings) as served, httpx.Client(timeout=30) as http:
            events = f"{served.url}/slack/events"
            for round_number in range(ROUNDS + 1):
                for kind in ("A", "B", "C"):
                    text = "help" if kind == "C" else f"status {number}"
                    if kind == "A":
                        sandbox.inject_fault("status", delay=DELAY)
                    request = requests.command(text, user=USER)
                    started = time.perf_counter()
                    response = http.post(
                        events, content=request.body, headers=request.headers
                    )
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"{kind}: HTTP {response.status_code}")
                    if round_number == 0:
                        continue
                    acks[kind].append(elapsed)
                    if kind == "A":
                        assert request.response_name is not None
                        delayed.append((request.response_name, time.time()))
            longest = 0.0
            for name, sent in delayed:
                fake.wait_for(lambda n=name: fake.responses(n), timeout=30)
                answered = fake.calls("respond")
                at = next(c.at for c in answered if c.path.endswith(f"/{name}"))
                longest = max(longest, at - sent)
    return acks, longest


def main() -> None:
    acks, longest = measure()
    rows = []
    baseline = statistics.median(acks["B"])
    labels = {
        "A": f"status, JARVICE answering in {DELAY:.0f} s",
        "B": "status, JARVICE answering at once",
        "C": "help (answered in the ack)",
    }
    for kind, label in labels.items():
        values = acks[kind]
        median = statistics.median(values)
        rows.append(
            f"| {label} | {median:.1f} | {min(values):.1f} to {max(values):.1f} | "
            f"{median / baseline:.2f}x |"
        )
    goal = "met" if statistics.median(acks["A"]) <= 100 else "NOT met"
    report = "\n".join(
        [
            f"### Slack: ack latency of /jarvice status ({dt.date.today()})",
            "",
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}. "
            "Command: `python -m bench slack_ack_latency`. Whole app under uvicorn "
            "with the SQLite store, fake Slack and sandbox on loopback; "
            f"{ROUNDS} alternating rounds after a warm-up round. Goal: median "
            f"ack <= 100 ms with a {DELAY:.0f} s JARVICE ({goal}). Every delayed "
            f"status was still answered, the slowest {longest:.2f} s after its "
            "ack.",
            "",
            "| request | ack ms (median) | range | vs status at once |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    print(report)
    if "--record" in sys.argv:
        with Path(__file__).with_name("RESULTS.md").open("a") as results:
            results.write("\n" + report)


if __name__ == "__main__":
    main()
