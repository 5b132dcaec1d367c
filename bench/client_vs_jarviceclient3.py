"""1,000 status calls: this client against Nimbix's jarviceclient3.

Both talk to the same sandbox (in a process of its own) in one run,
alternating in rounds (A B A B ...) so that machine noise hits both alike.
Two settings:

- loopback: plain HTTP on 127.0.0.1, no added delay (CPU per call shows);
- realistic: HTTPS with a self-signed certificate through a proxy that adds
  a 20 ms round trip, like a JARVICE tens of milliseconds away: TCP and TLS
  handshakes cost round trips, so connection reuse and concurrency show.

jarviceclient3 is synchronous and opens a new connection per call (it calls
`requests.get` without a session); it is driven the way its users drive it,
one call after another. This client is measured both ways: one call after
another, and 16 in flight on one connection pool.

Run: `.venv/bin/python -m bench client_vs_jarviceclient3 [--record]` (needs the
`bench` extra: `pip install -e '.[bench]'`; `make bench` runs every benchmark).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench._sandbox_process import sandbox_process
from jarvice_tools import Caller, Credentials, JarviceClient

CALLS = 1000
ROUNDS = 3
CONCURRENCY = 16
RTT = 0.02
WARM_UP = 100


@contextmanager
def self_signed() -> Iterator[tuple[Path, Path]]:
    """A throwaway certificate for 127.0.0.1 and its key."""
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )
        yield cert, key


def submit_one_job(url: str, username: str, apikey: str, verify: object) -> int:
    body = {
        "container": {"image": "library/ubuntu:jammy", "jobscript": "sleep 30"},
        "machine": {"type": "n0", "nodes": 1},
        "user": {"username": username, "apikey": apikey},
    }
    answer = httpx.post(f"{url}/jarvice/batch", json=body, verify=verify)  # type: ignore[arg-type]
    answer.raise_for_status()
    return int(answer.json()["number"])


def run_peer(url: str, username: str, apikey: str, number: int, calls: int) -> float:
    from jarviceclient.JarviceAPI import AuthenticatedClient

    peer = AuthenticatedClient(username, apikey, url)
    started = time.perf_counter()
    for _ in range(calls):
        result, errors = peer.status(number=number)
        if errors or str(number) not in result:
            raise RuntimeError(f"jarviceclient3 failed: {errors}")
    return calls / (time.perf_counter() - started)


def run_ours(
    url: str, caller: Caller, number: int, calls: int, concurrency: int, verify: object
) -> float:
    async def go() -> float:
        transport = httpx.AsyncHTTPTransport(verify=verify)  # type: ignore[arg-type]
        async with JarviceClient(url, caller=caller, transport=transport) as jarvice:
            await jarvice.status(number)
            queue = iter(range(calls))

            async def worker() -> None:
                for _ in queue:
                    statuses = await jarvice.status(number)
                    assert number in statuses.root

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return calls / (time.perf_counter() - started)

    return asyncio.run(go())


def measure(setting: str, server: dict[str, Any], verify: object) -> list[str]:
    url, apikey = server["url"], server["accounts"]["alice"]
    caller = Caller(credentials=Credentials(username="alice", apikey=apikey))
    number = submit_one_job(url, "alice", apikey, verify)
    runs: dict[str, Callable[[int], float]] = {
        "jarviceclient3": lambda n: run_peer(url, "alice", apikey, number, n),
        "ours, sequential": lambda n: run_ours(url, caller, number, n, 1, verify),
        f"ours, {CONCURRENCY} in flight": lambda n: run_ours(
            url, caller, number, n, CONCURRENCY, verify
        ),
    }
    for run in runs.values():
        run(WARM_UP)
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, run in runs.items():
            rates[name].append(run(CALLS))

    peer = statistics.median(rates["jarviceclient3"])
    lines = []
    for name, values in rates.items():
        median = statistics.median(values)
        lines.append(
            f"| {setting} | {name} | {median:,.0f} | "
            f"{min(values):,.0f} to {max(values):,.0f} | {median / peer:.2f}x |"
        )
    return lines


def main() -> None:
    lines = []
    with sandbox_process() as server:
        lines += measure("loopback HTTP", server, True)
    with self_signed() as (cert, key):
        os.environ["REQUESTS_CA_BUNDLE"] = str(cert)
        verify = ssl.create_default_context(cafile=str(cert))
        with sandbox_process(rtt=RTT, cert=str(cert), key=str(key)) as server:
            lines += measure(f"HTTPS, {RTT * 1000:.0f} ms RTT", server, verify)

    report = "\n".join(
        [
            f"### Client: {CALLS} status calls vs jarviceclient3 ({dt.date.today()})",
            "",
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"httpx {httpx.__version__}. Command: "
            "`python -m bench client_vs_jarviceclient3`. "
            f"Median of {ROUNDS} alternating rounds after {WARM_UP} warm-up calls.",
            "",
            "| setting | client | calls/s (median) | range | vs jarviceclient3 |",
            "|---|---|---|---|---|",
            *lines,
            "",
        ]
    )
    print(report)
    if "--record" in sys.argv:
        with Path(__file__).with_name("RESULTS.md").open("a") as results:
            results.write("\n" + report)


if __name__ == "__main__":
    main()
