"""`python -m slack_bot.store`: migrate the database named by DATABASE_URL.

python -m slack_bot.store upgrade            # to the newest revision
python -m slack_bot.store current            # where the database is
python -m slack_bot.store downgrade 0001     # back to a revision
python -m slack_bot.store revision 0002 "alerts tables"   # a new file
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from alembic import command

from slack_bot.store import migrate
from slack_bot.store.core import UNREACHABLE, create_engine, unavailable
from slack_bot.store.urls import database_url, display_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slack_bot.store")
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("upgrade", help="migrate to the newest revision")
    steps.add_parser("current", help="show the database's revision")
    down = steps.add_parser("downgrade", help="migrate down to a revision")
    down.add_argument("target")
    new = steps.add_parser("revision", help="write an empty migration file")
    new.add_argument("rev_id", help="the next number, e.g. 0002")
    new.add_argument("message")
    args = parser.parse_args(argv)

    if args.step == "revision":
        command.revision(
            migrate.alembic_config(), message=args.message, rev_id=args.rev_id
        )
        return 0
    try:
        url = database_url(os.environ.get("DATABASE_URL"))
    except ValueError as error:
        sys.stderr.write(f"DATABASE_URL: {error}\n")
        return 2
    try:
        revision = asyncio.run(_run(args, url))
    except UNREACHABLE as error:
        sys.stderr.write(f"{unavailable(url, error)}\n")
        return 2
    sys.stdout.write(f"{display_url(url)}: {revision}\n")
    return 0


async def _run(args: argparse.Namespace, url: object) -> str:
    engine = create_engine(url)  # type: ignore[arg-type]
    try:
        if args.step == "upgrade":
            revision = await migrate.upgrade(engine)
        elif args.step == "downgrade":
            revision = await migrate.downgrade(engine, args.target)
        else:
            revision = await migrate.current_revision(engine)
        return revision or "(no revision)"
    finally:
        await engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
