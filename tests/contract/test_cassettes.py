"""Replay the recorded tour of all 28 endpoints through the client, and make
sure no recording anywhere holds an API key."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from vcr.request import Request

from jarvice_tools import ACTIONS, JarviceClient
from jarvice_tools.sandbox import SandboxServer
from tests.contract.cassettes import (
    CASSETTES,
    KEY_FIELD,
    PLACEHOLDER,
    SECRET_FIELD,
    SECRET_PLACEHOLDER,
    Scrubber,
    SecretLeft,
    check_written,
    recorder,
)
from tests.contract.conftest import caller_for
from tests.contract.record import CASSETTE, OUTCOMES, caller, scrubber_for
from tests.contract.test_faults import BATCH
from tests.contract.tour import TourPlan, tour

pytestmark = pytest.mark.anyio

REPLAY_KEY = "feedfacefeedfacefeedfacefeedfacefeedface"


async def no_wait(seconds: float) -> None:
    """Replay needs no waiting: the recorded polls come back in order."""


async def test_the_tour_replays_to_the_recorded_outcomes() -> None:
    expected = json.loads((CASSETTES / OUTCOMES).read_text())

    async with JarviceClient(
        "http://recorded.invalid", caller=caller("alice", REPLAY_KEY)
    ) as jarvice:
        admin = jarvice.for_caller(caller("admin", REPLAY_KEY, admin=True))
        with recorder(record=False).use_cassette(CASSETTE) as cassette:
            results = await tour(jarvice, admin, no_wait, TourPlan())

    assert results == expected
    assert cassette.all_played


def test_the_cassette_covers_every_endpoint() -> None:
    recorded = (CASSETTES / CASSETTE).read_text()
    paths = set(re.findall(r"uri: \S+?(/jarvice/\w+)", recorded))

    assert paths == {action.path for action in ACTIONS.values()}


def secrets_in(text: str, keys: list[str]) -> list[str]:
    """Known keys in `text`, and any apikey, pullsecret or password field
    whose value is not a placeholder."""
    found = [key for key in keys if key in text]
    found += [
        value
        for _, value in KEY_FIELD.findall(text)
        if value not in (PLACEHOLDER, "%3CAPIKEY%3E")
    ]
    found += [v for _, v in SECRET_FIELD.findall(text) if v != SECRET_PLACEHOLDER]
    return found


def test_no_cassette_holds_an_api_key() -> None:
    with SandboxServer() as sandbox:
        keys = [account.apikey for account in sandbox.accounts]
    files = [path for path in Path(CASSETTES).rglob("*") if path.is_file()]

    assert files
    for path in files:
        assert secrets_in(path.read_text(errors="replace"), keys) == [], path


LEAKED = "9d8c540069fead1b0661aa508d9b79f7ba340408"


@pytest.mark.parametrize(
    "leaked",
    [
        f"body: username=alice&apikey={LEAKED}",
        f'string: "{{\\"user\\": {{\\"apikey\\": \\"{LEAKED}',
        f'string: "{{\\"container\\": {{\\"pullsecret\\": \\"{LEAKED}',
        f'{{"vault": {{"password": "{LEAKED}"}}}}',
    ],
    ids=["form", "escaped-json", "pullsecret", "password"],
)
def test_the_secret_scan_would_catch_a_leak(leaked: str) -> None:
    assert secrets_in(leaked, []) == [LEAKED]


OTHER_KEY = "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff"
"""The key of a second caller the recorder knows (the tour's admin, say)."""
PULLSECRET = base64.b64encode(b'{"auths": {"quay.io": {"auth": "bWU6cHc="}}}').decode()
VAULT_PASSWORD = "vault-password-not-for-cassettes"


async def test_the_recorder_masks_keys_and_sent_secrets_wherever_they_appear(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    alice = caller_for(sandbox, "alice")
    scrubber = scrubber_for(alice, caller("admin", OTHER_KEY))
    planted = f"export KEY={OTHER_KEY}\nauth {PULLSECRET}\n"
    sandbox.inject_fault("tail", status=200, body=planted)
    batch = {
        "container": {**BATCH["container"], "pullsecret": PULLSECRET},  # type: ignore[dict-item]
        "machine": BATCH["machine"],
        "vault": {"name": "alice-home", "password": VAULT_PASSWORD},
    }

    async with JarviceClient(sandbox.url, caller=alice) as jarvice:
        machine = recorder(record=True, scrubber=scrubber)
        machine.cassette_library_dir = str(tmp_path)
        with machine.use_cassette("secrets.yaml"):
            job = await jarvice.batch(batch)
            await jarvice.jobs()
            assert await jarvice.tail(job.number) == planted
    check_written(tmp_path / "secrets.yaml", scrubber)

    text = (tmp_path / "secrets.yaml").read_text()
    for secret in (alice.credentials.apikey.get_secret_value(), OTHER_KEY):
        assert secret not in text
    assert PULLSECRET not in text
    assert VAULT_PASSWORD not in text
    assert "export KEY=<APIKEY>" in text
    assert text.count(SECRET_PLACEHOLDER) >= 5


def test_a_cassette_still_holding_a_known_key_is_deleted(tmp_path: Path) -> None:
    cassette = tmp_path / "leak.yaml"
    cassette.write_text(
        f'interactions:\n- response: {{body: {{string: "{OTHER_KEY}"}}}}\n'
    )

    with pytest.raises(SecretLeft, match="was deleted") as caught:
        check_written(cassette, Scrubber([OTHER_KEY]))

    assert not cassette.exists()
    assert OTHER_KEY not in str(caught.value)


def test_a_known_key_is_masked_in_the_uri_and_headers_too() -> None:
    uri = f"http://127.0.0.1:8642/jarvice/jobs?username=alice&apikey={OTHER_KEY}"
    request = Request("POST", uri, b"", {"X-Jarvice-Key": f"key {OTHER_KEY}"})

    scrubbed = Scrubber([OTHER_KEY]).request(request)

    assert scrubbed.uri == (
        "http://recorded.invalid/jarvice/jobs?username=alice&apikey=<APIKEY>"
    )
    assert scrubbed.headers["X-Jarvice-Key"] == "key <APIKEY>"
