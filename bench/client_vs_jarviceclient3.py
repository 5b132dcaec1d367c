"""1,000 status calls: this client against Nimbix's jarviceclient3.

Both talk to the same sandbox in one run, alternating in rounds (A B A B ...)
so that machine noise hits both alike. Two settings:

- loopback: plain HTTP on 127.0.0.1, no added delay (CPU per call shows);
- realistic: HTTPS with a self-signed certificate and 20 ms added per reply,
  like a JARVICE tens of milliseconds away (connection reuse and concurrency
  show).

jarviceclient3 is synchronous and opens a new connection per call (it calls
`requests.get` without a session); it is driven the way its users drive it,
one call after another. This client is measured both ways: one call after
another, and 16 in flight on one connection pool.

Run: `make bench` or `.venv/bin/python -m bench client` (needs the `bench`
extra: `pip install -e '.[bench]'`).
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

import httpx

from jarvice_tools import Caller, Credentials, JarviceClient
from jarvice_tools.sandbox import SandboxServer

CALLS = 1000
ROUNDS = 3
CONCURRENCY = 16
LATENCY = 0.02


@contextmanager
def self_signed() -> Iterator[tuple[ssl.SSLContext, Path]]:
    """A server TLS context and the certificate file clients must trust."""
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
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        yield context, cert


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


def measure(setting: str, server: SandboxServer, verify: object) -> list[str]:
    account = server.account("alice")
    caller = Caller(
        credentials=Credentials(username=account.username, apikey=account.apikey)
    )
    number = submit_one_job(server.url, account.username, account.apikey, verify)
    runs: dict[str, Callable[[], float]] = {
        "jarviceclient3": lambda: run_peer(
            server.url, account.username, account.apikey, number, CALLS
        ),
        "ours, sequential": lambda: run_ours(
            server.url, caller, number, CALLS, 1, verify
        ),
        f"ours, {CONCURRENCY} in flight": lambda: run_ours(
            server.url, caller, number, CALLS, CONCURRENCY, verify
        ),
    }
    for run in runs.values():
        run()
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, run in runs.items():
            rates[name].append(run())

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
    with SandboxServer(clock="manual") as server:
        lines += measure("loopback HTTP", server, True)
    with self_signed() as (context, cert):
        os.environ["REQUESTS_CA_BUNDLE"] = str(cert)
        verify = ssl.create_default_context(cafile=str(cert))
        with SandboxServer(
            clock="manual", latency=LATENCY, ssl_context=context
        ) as server:
            lines += measure(f"HTTPS + {LATENCY * 1000:.0f} ms", server, verify)

    report = "\n".join(
        [
            f"### Client: {CALLS} status calls vs jarviceclient3 ({dt.date.today()})",
            "",
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"httpx {httpx.__version__}. Command: `python -m bench client`. "
            f"Median of {ROUNDS} alternating rounds after a warm-up round.",
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
