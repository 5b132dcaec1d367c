"""The ``jarvice-sandbox`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import signal
import sys

from ._server import MAX_PORT, SandboxServer

logger = logging.getLogger("jarvice_tools.sandbox")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port: give 0 to {MAX_PORT} (0: any free port)"
        )
    return port


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a delay: give 0 or more seconds, like 0.05"
        )
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jarvice-sandbox",
        description="A local JARVICE-compatible API server with simulated jobs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=_port, default=8642, help="port (0: any free port)"
    )
    parser.add_argument(
        "--control", action="store_true", help="enable the /_sandbox/ test-control API"
    )
    parser.add_argument(
        "--latency",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="delay every API reply by this many seconds",
    )
    parser.add_argument(
        "--accounts",
        action="store_true",
        help="print the seeded accounts as JSON and exit",
    )
    return parser


async def _serve(server: SandboxServer) -> None:
    """Serve until Ctrl-C (KeyboardInterrupt) or SIGTERM (e.g. docker stop)."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        logger.info(
            "JARVICE sandbox listening on %s (API at %s/jarvice/...); "
            "run `jarvice-sandbox --accounts` for usernames and API keys",
            server.url,
            server.url,
        )
        await stop.wait()
    logger.info("JARVICE sandbox stopped")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    server = SandboxServer(
        host=args.host,
        port=args.port,
        clock="real",
        control=args.control,
        latency=args.latency,
    )
    if args.accounts:
        sys.stdout.write(
            json.dumps(server.accounts_json(), indent=4, allow_nan=False) + "\n"
        )
        return 0
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr
    )
    try:
        asyncio.run(_serve(server))
    except KeyboardInterrupt:
        logger.info("JARVICE sandbox stopped")
    except OSError as exc:
        logger.error(
            "could not listen on %s:%s: %s; pick another --port",
            args.host,
            args.port,
            exc.strerror or exc,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
