"""The watcher at scale: API calls and time per poll, and its memory.

1,000 running jobs across 50 users on the sandbox (20 each). Two pollers
alternate, cycle after cycle, with the same client and concurrency (8):

- the watcher (`jarvice_tools.watch`): one `/jobs` per user, plus one
  `/status` per job that left its list, plus the completed lists whose turn
  it is (each user's once every `catch_up_every` polls, 6 by default; a job
  that left a list read that way costs no `/status`);
- the baseline: one `/status` per watched job, every cycle (what a poller
  does that watches jobs one by one).

Before each measured cycle, K of the running jobs are ended in the sandbox
(K = 0, 10, 50). API calls are counted at the sandbox (exact). Cycle times
are measured on bare loopback and with TLS and 20 ms added to every answer
(the sandbox's latency). A third variant has one team admin watching the
team's 1,000 jobs through `/teamjobs`. Memory: what the watcher keeps for
1,000 jobs (tracemalloc, allocations from the watch package still alive
after a poll), and its peak during one poll.

Run: `.venv/bin/python -m bench alerts_watch [--record]`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import platform
import ssl
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import httpx

from bench.client_vs_jarviceclient3 import self_signed
from jarvice_tools import Caller, Credentials, JarviceClient, RetryPolicy
from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.watch import StaticUsers, WatchedUser, Watcher

USERS = 50
JOBS_PER_USER = 20
ENDED = (0, 10, 50)
ROUNDS = 3
CONCURRENCY = 8
LATENCY = 0.02
TEAM = "acme"


def caller(server: SandboxServer, name: str) -> Caller:
    key = server.account(name).apikey
    return Caller(credentials=Credentials(username=name, apikey=key))


async def populate(
    server: SandboxServer, client: JarviceClient, names: Sequence[str]
) -> dict[str, list[int]]:
    """Twenty running jobs for each user; job numbers by user."""
    jobs: dict[str, list[int]] = {}

    async def submit(name: str) -> None:
        as_user = client.for_caller(caller(server, name))
        for _ in range(JOBS_PER_USER):
            result = await as_user.batch(
                {
                    "container": {
                        "image": "library/ubuntu:jammy",
                        "jobscript": "sleep 40",
                    },
                    "machine": {"type": "n0", "nodes": 1},
                }
            )
            jobs.setdefault(name, []).append(result.number)

    await asyncio.gather(*(submit(name) for name in names))
    server.advance(10)
    return jobs


class Baseline:
    """One /status per watched job per cycle, `CONCURRENCY` at a time."""

    def __init__(
        self, client: JarviceClient, server: SandboxServer, jobs: dict[str, list[int]]
    ) -> None:
        self.client = client
        self.server = server
        self.watched = {n: name for name, numbers in jobs.items() for n in numbers}
        self.status: dict[int, str] = {}

    async def poll(self) -> int:
        limit = asyncio.Semaphore(CONCURRENCY)
        ended = 0

        async def one(number: int, name: str) -> None:
            nonlocal ended
            async with limit:
                answer = await self.client.for_caller(caller(self.server, name)).status(
                    number
                )
            status = answer.only()[1].job_status
            if self.status.get(number) != status and status.startswith(
                ("COMP", "TERM")
            ):
                ended += 1
            self.status[number] = status

        await asyncio.gather(*(one(n, name) for n, name in list(self.watched.items())))
        for number, status in list(self.status.items()):
            if status.startswith(("COMP", "TERM", "CANC")):
                self.watched.pop(number, None)
        return ended


def end_some(server: SandboxServer, running: list[int], count: int) -> list[int]:
    ended, running[:] = running[:count], running[count:]
    for number in ended:
        server.set_status(number, "COMPLETED")
    return ended


async def measure(
    server: SandboxServer,
    poll: Callable[[], Awaitable[object]],
) -> tuple[int, float, int]:
    """Calls made by one poll, its seconds, and how many of the calls read a
    completed list."""
    server.clear_requests()
    started = time.perf_counter()
    await poll()
    elapsed = time.perf_counter() - started
    requests = server.requests
    completed = sum(1 for r in requests if r.params.get("completed") == "true")
    return len(requests), elapsed, completed


async def one_setting(
    label: str, server: SandboxServer, client: JarviceClient
) -> list[dict[str, object]]:
    names = [f"bench{n:02d}" for n in range(USERS)]
    for name in names:
        server.add_account(name)
    jobs = await populate(server, client, names)
    users = StaticUsers(tuple(WatchedUser(caller(server, n)) for n in names))
    watcher = Watcher(client, users, concurrency=CONCURRENCY, clock=server.now)
    baseline = Baseline(client, server, jobs)
    first = await watcher.poll()
    watcher.accept(first)
    await baseline.poll()

    running = [n for numbers in jobs.values() for n in numbers]
    rows: list[dict[str, object]] = []
    for count in ENDED:
        figures: dict[str, list[float]] = {
            "w_calls": [],
            "w_completed": [],
            "w_s": [],
            "b_calls": [],
            "b_s": [],
        }
        for _ in range(ROUNDS):
            end_some(server, running, count)
            calls, seconds, completed = await measure(server, lambda: _poll(watcher))
            figures["w_calls"].append(calls)
            figures["w_completed"].append(completed)
            figures["w_s"].append(seconds)
            calls, seconds, _ = await measure(server, baseline.poll)
            figures["b_calls"].append(calls)
            figures["b_s"].append(seconds)
        rows.append({"setting": label, "ended": count, **figures})
    return rows


async def _poll(watcher: Watcher) -> None:
    cycle = await watcher.poll()
    watcher.accept(cycle)


async def team_variant(
    server: SandboxServer, client: JarviceClient
) -> dict[str, object]:
    """One team admin (carol) watching 1,000 jobs of her team in one call."""
    names = [f"member{n:02d}" for n in range(USERS - 1)]
    for name in names:
        server.add_account(name, team=TEAM)
    jobs = await populate(server, client, names)
    admin = WatchedUser(caller(server, "carol"), team=True)
    members = tuple(WatchedUser(caller(server, n)) for n in names)
    watcher = Watcher(
        client,
        StaticUsers((admin, *members)),
        concurrency=CONCURRENCY,
        clock=server.now,
    )
    await _poll(watcher)
    running = [n for numbers in jobs.values() for n in numbers]
    counts = []
    for count in ENDED:
        end_some(server, running, count)
        calls, _, _ = await measure(server, lambda: _poll(watcher))
        counts.append((count, calls))
    return {
        "tracked": len(watcher.state.jobs) + sum(c for c, _ in counts),
        "counts": counts,
    }


async def memory(server: SandboxServer, client: JarviceClient) -> tuple[int, int, int]:
    """Bytes the watcher keeps for its jobs, its peak during a poll, jobs kept."""
    names = [f"mem{n:02d}" for n in range(USERS)]
    for name in names:
        server.add_account(name)
    await populate(server, client, names)
    users = StaticUsers(tuple(WatchedUser(caller(server, n)) for n in names))
    only_watch = [tracemalloc.Filter(True, "*jarvice_tools/watch/*", all_frames=True)]
    tracemalloc.start(40)
    watcher = Watcher(client, users, concurrency=CONCURRENCY, clock=server.now)
    await _poll(watcher)
    gc.collect()
    kept = tracemalloc.take_snapshot().filter_traces(only_watch)
    retained = sum(stat.size for stat in kept.statistics("filename"))
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    await _poll(watcher)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return retained, peak - base, len(watcher.state.jobs)


def tls_client(cert: Path, url: str) -> JarviceClient:
    verify = ssl.create_default_context(cafile=str(cert))
    transport = httpx.AsyncHTTPTransport(verify=verify, limits=httpx.Limits())
    return JarviceClient(url, retry=RetryPolicy(attempts=1), transport=transport)


async def run() -> str:
    rows: list[dict[str, object]] = []
    with SandboxServer(clock="manual", control=True) as server:
        async with JarviceClient(server.url, retry=RetryPolicy(attempts=1)) as client:
            rows += await one_setting("loopback", server, client)
    with self_signed() as (cert, key):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        with SandboxServer(
            host="127.0.0.1", clock="manual", latency=LATENCY, ssl_context=context
        ) as server:
            async with tls_client(cert, server.url) as client:
                rows += await one_setting("TLS + 20 ms", server, client)
    with SandboxServer(clock="manual") as server:
        async with JarviceClient(server.url, retry=RetryPolicy(attempts=1)) as client:
            team = await team_variant(server, client)
    with SandboxServer(clock="manual") as server:
        async with JarviceClient(server.url, retry=RetryPolicy(attempts=1)) as client:
            retained, peak, kept = await memory(server, client)
    return report(rows, team, retained, peak, kept)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def report(
    rows: list[dict[str, object]],
    team: dict[str, object],
    retained: int,
    peak: int,
    kept: int,
) -> str:
    today = dt.date.today().isoformat()
    lines = [
        f"### Alerts: watcher API calls, poll time and memory ({today})",
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}. "
        "Command: `python -m bench alerts_watch`. 1,000 running jobs across 50 "
        "users on the sandbox; the watcher and the baseline (one /status per "
        f"watched job) alternate, {ROUNDS} rounds per row, same client and "
        f"concurrency ({CONCURRENCY}). Calls counted at the sandbox. Goal: "
        "calls per poll <= users + ended jobs + the completed lists whose "
        "turn it is (one user in 6 a poll): about 70, against 1,000.",
        "",
        "| setting | jobs ended before the poll | watcher calls "
        "| of which completed lists | baseline calls "
        "| calls vs baseline | watcher poll s (median, range) | baseline poll s "
        "| time vs baseline |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        w_calls = [int(c) for c in row["w_calls"]]  # type: ignore[attr-defined]
        w_completed = [int(c) for c in row["w_completed"]]  # type: ignore[attr-defined]
        b_calls = [int(c) for c in row["b_calls"]]  # type: ignore[attr-defined]
        w_s: list[float] = row["w_s"]  # type: ignore[assignment]
        b_s: list[float] = row["b_s"]  # type: ignore[assignment]
        lines.append(
            f"| {row['setting']} | {row['ended']} | {_span(w_calls)} | "
            f"{_span(w_completed)} | "
            f"{_span(b_calls)} | {_median(w_calls) / _median(b_calls):.3f}x | "
            f"{_median(w_s):.3f} ({min(w_s):.3f} to {max(w_s):.3f}) | "
            f"{_median(b_s):.3f} ({min(b_s):.3f} to {max(b_s):.3f}) | "
            f"{_median(w_s) / _median(b_s):.2f}x |"
        )
    counts: list[tuple[int, int]] = team["counts"]  # type: ignore[assignment]
    listed = ", ".join(f"{calls} with {ended} ended" for ended, calls in counts)
    lines += [
        "",
        f"Team admin variant (carol watching her team's {USERS - 1} members' "
        f"1,000 jobs with `/teamjobs`, every member linked): calls per poll "
        f"{listed}.",
        "",
        f"Memory: the watcher keeps {retained / 1024:.0f} KiB for {kept} jobs "
        f"({retained / max(kept, 1):.0f} bytes a job, tracemalloc, allocations "
        f"from the watch package alive after a poll); a poll's peak above that "
        f"is {peak / 1024:.0f} KiB (everything allocated in the process during "
        "one poll of 50 job lists, the in-process sandbox's answers included).",
    ]
    return "\n".join(lines)


def _span(values: Sequence[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low} to {high}"


def main() -> None:
    text = asyncio.run(run())
    print(text)
    if "--record" in sys.argv:
        results = Path(__file__).with_name("RESULTS.md")
        with results.open("a") as out:
            out.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
