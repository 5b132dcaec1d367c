"""A sandbox in its own process, so that a benchmark's client and server do
not share one interpreter (and its GIL), optionally behind a delaying proxy.

`python -m bench._sandbox_process [--rtt S] [--cert F --key F]` prints one
JSON line (`url`, `accounts`) and serves until its stdin closes. With
`--rtt`, `url` points at a TCP proxy that holds each new connection for one
round trip (the TCP handshake) and every chunk for half a round trip in each
direction, so that TCP and TLS handshakes cost round trips as they do across
a real network (the sandbox's own `latency` only delays replies, which would
make new connections look free).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from jarvice_tools.sandbox import SandboxServer


@contextmanager
def sandbox_process(
    *, rtt: float = 0.0, cert: str | None = None, key: str | None = None
) -> Iterator[dict[str, Any]]:
    """Start one; yield its `url` and `accounts` (name -> API key)."""
    command = [sys.executable, "-m", "bench._sandbox_process", "--rtt", str(rtt)]
    if cert and key:
        command += ["--cert", cert, "--key", key]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


async def _carry(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    """Forward bytes in order, each chunk `delay` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def take() -> None:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                return

    async def give() -> None:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(take(), give())
    except (ConnectionError, OSError):
        writer.close()


async def _proxy(upstream: str, rtt: float, ready: asyncio.Future[int]) -> None:
    target = urlsplit(upstream)

    async def connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            await asyncio.sleep(rtt)  # the TCP handshake's round trip
            up_reader, up_writer = await asyncio.open_connection(
                target.hostname, target.port
            )
            await asyncio.gather(
                _carry(reader, up_writer, rtt / 2), _carry(up_reader, writer, rtt / 2)
            )
        except asyncio.CancelledError:
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    ready.set_result(server.sockets[0].getsockname()[1])
    async with server:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def _serve(server: SandboxServer, rtt: float) -> None:
    accounts = {a.username: a.apikey for a in server.accounts}
    url = server.url
    if rtt > 0:
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        proxy = asyncio.create_task(_proxy(server.url, rtt, ready))
        parts = urlsplit(server.url)
        url = f"{parts.scheme}://127.0.0.1:{await ready}"
    sys.stdout.write(json.dumps({"url": url, "accounts": accounts}) + "\n")
    sys.stdout.flush()
    if rtt > 0:
        await proxy
    else:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rtt", type=float, default=0.0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    arguments = parser.parse_args()
    context = None
    if arguments.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(arguments.cert, arguments.key)
    with SandboxServer(clock="manual", ssl_context=context) as server:
        asyncio.run(_serve(server, arguments.rtt))


if __name__ == "__main__":
    main()
