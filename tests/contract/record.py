"""Record the tour cassette: `python -m tests.contract.record [--real]`.

Without `--real` it records against an in-process sandbox into
tests/cassettes. With `--real` it records against the JARVICE named by
`JARVICE_API_URL`, `JARVICE_USERNAME` and `JARVICE_APIKEY` (and, for the
admin steps, `JARVICE_ADMIN_USERNAME` and `JARVICE_ADMIN_APIKEY`) into
`--out`. The callers' keys, and any pullsecret or password sent, are
replaced by placeholders wherever they appear before anything is written,
and a cassette that still holds one is deleted with an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from jarvice_tools import Caller, Credentials, JarviceClient
from jarvice_tools.sandbox import SandboxServer
from tests.contract.cassettes import CASSETTES, Scrubber, check_written, recorder
from tests.contract.tour import Outcome, TourPlan, Wait, tour

CASSETTE = "tour.yaml"
RECORDED_AT = 1_764_763_200.0
"""The sandbox clock's start, so that re-recording gives the same job names."""
OUTCOMES = "tour.json"


def caller(username: str, apikey: str, *, admin: bool = False) -> Caller:
    return Caller(
        credentials=Credentials(username=username, apikey=apikey),  # type: ignore[arg-type]
        admin=admin,
    )


def scrubber_for(*callers: Caller) -> Scrubber:
    """A scrubber that knows these callers' API keys."""
    return Scrubber(c.credentials.apikey.get_secret_value() for c in callers)


async def run_tour(
    url: str, user: Caller, admin: Caller, wait: Wait, plan: TourPlan, out: Path
) -> dict[str, Outcome]:
    scrubber = scrubber_for(user, admin)
    async with JarviceClient(url, caller=user) as jarvice:
        machine = recorder(record=True, scrubber=scrubber)
        machine.cassette_library_dir = str(out)
        with machine.use_cassette(CASSETTE):
            results = await tour(jarvice, jarvice.for_caller(admin), wait, plan)
    check_written(out / CASSETTE, scrubber)
    return results


def record(
    url: str, user: Caller, admin: Caller, wait: Wait, plan: TourPlan, out: Path
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / CASSETTE).unlink(missing_ok=True)
    results = asyncio.run(run_tour(url, user, admin, wait, plan, out))
    text = json.dumps(results, indent=2, sort_keys=True) + "\n"
    (out / OUTCOMES).write_text(text)
    sys.stdout.write(f"recorded {len(results)} steps into {out / CASSETTE}\n")


def record_sandbox(out: Path) -> None:
    with SandboxServer(clock="manual", epoch=RECORDED_AT) as sandbox:
        alice, boss = sandbox.account("alice"), sandbox.account("admin")

        async def advance(seconds: float) -> None:
            sandbox.advance(seconds)

        record(
            sandbox.url,
            caller(alice.username, alice.apikey),
            caller(boss.username, boss.apikey, admin=True),
            advance,
            TourPlan(),
            out,
        )


def record_real(arguments: argparse.Namespace) -> None:
    env = os.environ
    user = caller(env["JARVICE_USERNAME"], env["JARVICE_APIKEY"])
    admin_name = env.get("JARVICE_ADMIN_USERNAME")
    admin = (
        caller(admin_name, env["JARVICE_ADMIN_APIKEY"], admin=True)
        if admin_name
        else user
    )
    plan = TourPlan(
        app=arguments.app,
        app_command=arguments.command,
        machine=arguments.machine,
        vault=arguments.vault,
        image=arguments.image or "",
        image_repo=arguments.image_repo or "",
        images=bool(arguments.image),
        admin=bool(admin_name),
    )
    url = env.get("JARVICE_API_URL", "https://cloud.nimbix.net/api")
    record(url, user, admin, asyncio.sleep, plan, arguments.out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="record a real JARVICE")
    parser.add_argument("--out", type=Path, default=CASSETTES)
    parser.add_argument("--app", default="jarvice-desktop", help="an interactive app")
    parser.add_argument("--command", default="Desktop", help="the app's command")
    parser.add_argument("--machine", default="n0")
    parser.add_argument("--vault", default="ephemeral")
    parser.add_argument("--image", help="an app id of yours to pull and build")
    parser.add_argument("--image-repo", help="the Docker repository to pull")
    arguments = parser.parse_args()
    if arguments.real:
        if not os.environ.get("JARVICE_APIKEY"):
            sys.exit("set JARVICE_USERNAME and JARVICE_APIKEY to record a real JARVICE")
        record_real(arguments)
    else:
        record_sandbox(arguments.out)


if __name__ == "__main__":
    main()
