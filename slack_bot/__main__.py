"""`jarvice-slack`: run the Slack app.

    jarvice-slack --port 3000          # HTTP mode: POST /slack/events
    SLACK_APP_TOKEN=xapp-... jarvice-slack   # Socket Mode

Settings come from the environment (see docs/slack.md); a missing or
malformed one stops start-up with a message naming it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from jarvice_tools.redact import RedactingFilter
from slack_bot.settings import SettingsError, SlackSettings
from slack_bot.store import StoreUnavailable

DEFAULT_PORT = 3000
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def port_number(text: str) -> int:
    """A TCP port from --port or $PORT; argparse names the flag on error."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port number from 0 (any free port) to 65535 "
            "(from --port or $PORT)"
        )
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="jarvice-slack",
        description="The /jarvice Slack app (HTTP mode; Socket Mode when "
        "SLACK_APP_TOKEN is set).",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("HOST", "0.0.0.0"),
        help="address to listen on (default 0.0.0.0, or $HOST)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=os.environ.get("PORT", str(DEFAULT_PORT)),
        help=f"port for /slack/events, /health, /ready and /metrics (default "
        f"{DEFAULT_PORT}, or $PORT)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("LOG_LEVEL", "INFO"),
        choices=LOG_LEVELS,
        type=str.upper,
        help="DEBUG, INFO (default, or $LOG_LEVEL), WARNING or ERROR",
    )
    args = parser.parse_args(argv)
    if args.log_level not in LOG_LEVELS:
        parser.error(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    configure_logging(args.log_level)

    try:
        settings = SlackSettings.from_env()
    except SettingsError as error:
        sys.stderr.write(f"{error}\n")
        return 2

    from slack_bot.server import serve
    from slack_bot.socket_mode import SocketModeRefused

    try:
        asyncio.run(serve(settings, host=args.host, port=args.port))
    except (StoreUnavailable, SocketModeRefused) as error:
        sys.stderr.write(f"{error}\n")
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


def configure_logging(level: str) -> None:
    """Log to stderr, every handler masking API keys as a last defence."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    if level != "DEBUG":
        for noisy in ("httpx", "httpcore", "aiosqlite", "slack_sdk", "slack_bolt"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


if __name__ == "__main__":
    raise SystemExit(main())
