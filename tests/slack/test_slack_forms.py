"""Forms: linking an account, running a container, running an application."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jarvice_tools.sandbox import SandboxServer
from slack_bot.bot import JobSubmitted, SlackBot
from slack_bot.forms import BATCH_CALLBACK, LOGIN_CALLBACK, SUBMIT_CALLBACK
from slack_bot.testing import FakeSlack, SlackRequests, checkbox, selected, typed
from tests.slack.slack_helpers import (
    ALICE,
    BotFactory,
    dispatch,
    jarvice_paths,
    link,
    settle,
)

pytestmark = pytest.mark.anyio


async def _open(
    bot: SlackBot, fake: FakeSlack, requests: SlackRequests, text: str
) -> dict[str, Any]:
    """Run a form command as Alice; the last view the fake got (the form)."""
    request = requests.command(text, user=ALICE)
    assert (await dispatch(bot, request)).status == 200
    await settle()
    opened = fake.calls("views.open")
    assert opened[0].body["trigger_id"] == f"trigger-{request.response_name}"
    views = [
        c.body["view"] for c in fake.calls("views.open") + fake.calls("views.update")
    ]
    view = views[-1]
    return json.loads(view) if isinstance(view, str) else dict(view)


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


async def _submit(
    bot: SlackBot,
    requests: SlackRequests,
    callback_id: str,
    values: dict[str, dict[str, Any]],
    metadata: str,
) -> dict[str, Any]:
    request = requests.submission(
        callback_id, values, user=ALICE, private_metadata=metadata
    )
    response = await dispatch(bot, request)
    assert response.status == 200
    return json.loads(response.body) if response.body else {}


async def _run_params(
    bot: SlackBot,
    requests: SlackRequests,
    view: dict[str, Any],
    **values: dict[str, Any],
) -> dict[str, Any]:
    """Submit the jarvice-params form: a valid run unless `values` (block_id
    -> element state) say otherwise."""
    run = {"p:count": typed("8"), "machine": selected("n3"), "nodes": typed("1")}
    return await _submit(
        bot, requests, SUBMIT_CALLBACK, run | values, view["private_metadata"]
    )


@pytest.fixture
async def view(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> dict[str, Any]:
    """Alice linked, and the form of jarvice-params opened: the view."""
    await link(bot, sandbox, ALICE, "alice")
    return await _open(bot, fake_slack, requests, "submit jarvice-params")


# Login.


async def test_login_opens_a_form_and_a_wrong_key_is_refused_inline(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    view = await _open(bot, fake_slack, requests, "login")
    assert view["callback_id"] == LOGIN_CALLBACK
    assert set(_inputs(view)) == {"username", "apikey"}

    answer = await _submit(
        bot,
        requests,
        LOGIN_CALLBACK,
        {"username": typed("alice"), "apikey": typed("wrong-key")},
        view["private_metadata"],
    )

    assert answer["response_action"] == "errors"
    assert "did not accept" in answer["errors"]["apikey"]
    assert await bot.store.links.get(ALICE) is None


async def test_login_checks_the_key_with_jarvice_then_links(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    view = await _open(bot, fake_slack, requests, "login")
    key = sandbox.account("alice").apikey

    answer = await _submit(
        bot,
        requests,
        LOGIN_CALLBACK,
        {"username": typed("alice"), "apikey": typed(key)},
        view["private_metadata"],
    )
    await settle()

    assert answer == {}
    assert jarvice_paths(sandbox) == ["jobs"]
    found = await bot.store.links.credentials(ALICE)
    assert found is not None
    assert found.apikey.get_secret_value() == key
    linked = fake_slack.responses()[-1]
    assert "now run as JARVICE user *alice*" in linked["text"]

    whoami = requests.command("whoami", user=ALICE)
    await dispatch(bot, whoami)
    said = await fake_slack.wait_async(
        lambda: fake_slack.responses(whoami.response_name)
    )
    assert "linked to JARVICE user *alice*" in said[0]["text"]


async def test_login_with_empty_fields_names_them(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    answer = await _submit(
        bot,
        requests,
        LOGIN_CALLBACK,
        {"username": typed(""), "apikey": typed(None)},
        "{}",
    )
    assert set(answer["errors"]) == {"username", "apikey"}
    assert sandbox.requests == []


async def test_a_slow_jarvice_during_login_still_acks_in_time_and_links(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    view = await _open(bot, fake_slack, requests, "login")
    sandbox.inject_fault("jobs", delay=2.6)
    key = sandbox.account("alice").apikey

    answer = await _submit(
        bot,
        requests,
        LOGIN_CALLBACK,
        {"username": typed("alice"), "apikey": typed(key)},
        view["private_metadata"],
    )

    assert answer["response_action"] == "update"
    assert "Checking" in json.dumps(answer["view"])
    await settle()
    assert await bot.store.links.get(ALICE) is not None
    assert "now run as JARVICE user" in fake_slack.responses()[-1]["text"]


async def test_logout_deletes_the_link(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    request = requests.command("logout", user=ALICE)
    await dispatch(bot, request)
    said = await fake_slack.wait_async(
        lambda: fake_slack.responses(request.response_name)
    )
    assert "deleted" in said[0]["text"]
    assert await bot.store.links.credentials(ALICE) is None


# Running a container.


async def test_batch_form_offers_the_callers_machine_types(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")

    view = await _open(bot, fake_slack, requests, "batch")

    assert view["callback_id"] == BATCH_CALLBACK
    inputs = _inputs(view)
    options = [o["value"] for o in inputs["machine"]["element"]["options"]]
    assert {"n0", "n3", "ng4"} <= set(options)
    assert set(inputs) >= {"image", "script", "machine", "nodes", "vault"}


async def test_batch_form_errors_show_inline_and_nothing_is_sent(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    view = await _open(bot, fake_slack, requests, "batch")
    sandbox.clear_requests()

    answer = await _submit(
        bot,
        requests,
        BATCH_CALLBACK,
        {
            "image": typed("ubuntu:jammy"),
            "script": typed(None),
            "machine": selected("n3"),
            "nodes": typed("0"),
        },
        view["private_metadata"],
    )

    errors = answer["errors"]
    assert "library/ubuntu:jammy" in errors["image"]
    assert errors["script"] == "Enter the commands the job runs, e.g. hostname."
    assert errors["nodes"] == "Enter a whole number of nodes, 1 or more."
    assert sandbox.requests == []


async def test_a_valid_batch_form_submits_and_announces_the_job(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    submitted: list[JobSubmitted],
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    view = await _open(bot, fake_slack, requests, "batch")

    answer = await _submit(
        bot,
        requests,
        BATCH_CALLBACK,
        {
            "image": typed("library/ubuntu:jammy"),
            "script": typed("hostname"),
            "machine": selected("n3"),
            "nodes": typed("2"),
            "vault": typed(None),
            "label": typed("from-slack"),
        },
        view["private_metadata"],
    )
    await settle()

    assert answer == {}
    assert len(submitted) == 1
    job = sandbox.job(submitted[0].number)
    assert (job.machine, job.nodes, job.label) == ("n3", 2, "from-slack")
    assert submitted[0].channel_id == "C0001"
    assert f"job *{job.number}*" in fake_slack.responses()[-1]["text"]


# Running an application.


async def test_submit_form_is_built_from_the_appdef(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")

    view = await _open(bot, fake_slack, requests, "submit jarvice-params")

    assert view["callback_id"] == SUBMIT_CALLBACK
    inputs = _inputs(view)
    count = inputs["p:count"]
    assert count["element"]["type"] == "number_input"
    assert (count["element"]["min_value"], count["element"]["max_value"]) == ("1", "64")
    assert count["optional"] is False
    assert inputs["p:ratio"]["element"]["is_decimal_allowed"] is True
    solver = inputs["p:solver"]["element"]
    assert [(o["value"], o["text"]["text"]) for o in solver["options"]] == [
        ("cg", "Conjugate gradient"),
        ("gmres", "GMRES"),
        ("direct", "Direct (LU)"),
    ]
    assert solver["initial_option"]["value"] == "cg"
    config = inputs["p:config"]
    assert config["element"]["multiline"] is True
    assert config["element"]["max_length"] == 3000
    assert "Paste the file's text (*.yaml|*.yml)" in config["hint"]["text"]
    assert "writes it to /tmp/config.yaml" in config["hint"]["text"]
    assert inputs["p:verbose"]["element"]["type"] == "checkboxes"
    assert "*.csv|*.dat" in inputs["p:input"]["hint"]["text"]
    assert "p:mode" not in inputs
    assert "--showcase" in json.dumps(view["blocks"])
    machines = [o["value"] for o in inputs["machine"]["element"]["options"]]
    assert "ng4" not in machines
    assert "n3" in machines


async def test_submit_form_validates_against_the_appdef_inline(
    bot: SlackBot,
    requests: SlackRequests,
    sandbox: SandboxServer,
    view: dict[str, Any],
) -> None:
    sandbox.clear_requests()

    answer = await _submit(
        bot,
        requests,
        SUBMIT_CALLBACK,
        {
            "p:count": typed("100"),
            "p:threads": typed("5"),
            "p:input": typed("data.txt"),
            "p:verbose": checkbox(False),
            "p:solver": selected("GMRES"),
            "machine": selected("n3"),
            "nodes": typed("1"),
        },
        view["private_metadata"],
    )

    errors = answer["errors"]
    assert errors["p:count"] == "must be from 1 to 64"
    assert "multiple of 2" in errors["p:threads"]
    assert "*.csv|*.dat" in errors["p:input"]
    assert sandbox.requests == []


async def test_a_valid_submit_form_runs_the_application(
    bot: SlackBot,
    requests: SlackRequests,
    sandbox: SandboxServer,
    submitted: list[JobSubmitted],
    view: dict[str, Any],
) -> None:
    answer = await _submit(
        bot,
        requests,
        SUBMIT_CALLBACK,
        {
            "p:title": typed("From Slack"),
            "p:count": typed("8"),
            "p:ratio": typed("0.25"),
            "p:threads": typed("6"),
            "p:verbose": checkbox(True),
            "p:solver": selected("gmres"),
            "p:input": typed(None),
            "p:config": typed("  steps: 3\n  tolerance: 1e-6\n"),
            "machine": selected("n1"),
            "nodes": typed("1"),
            "walltime": typed("01:00:00"),
            "vault": typed(None),
        },
        view["private_metadata"],
    )
    await settle()

    assert answer == {}
    assert len(submitted) == 1
    assert submitted[0].application == "jarvice-params"
    body = next(r for r in sandbox.requests if r.endpoint == "submit").body
    assert body["application"]["parameters"]["count"] == 8
    assert body["application"]["parameters"]["verbose"] is True
    assert body["application"]["parameters"]["solver"] == "gmres"
    config = body["application"]["parameters"]["config"]
    assert config == "  steps: 3\n  tolerance: 1e-6\n"
    assert body["application"]["walltime"] == "01:00:00"


async def test_submit_needs_an_application_name(
    bot: SlackBot, requests: SlackRequests, sandbox: SandboxServer
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    response = await dispatch(bot, requests.command("submit", user=ALICE))
    assert "Name the application" in response.body
    assert sandbox.requests == []


async def test_a_submit_form_is_checked_on_another_replica_without_jarvice(
    make_bot: BotFactory,
    requests: SlackRequests,
    sandbox: SandboxServer,
    view: dict[str, Any],
) -> None:
    other = await make_bot()
    sandbox.clear_requests()

    answer = await _run_params(other, requests, view, **{"p:count": typed("100")})

    assert answer["errors"]["p:count"] == "must be from 1 to 64"
    assert sandbox.requests == []


async def test_a_user_unlinked_since_opening_the_form_is_told_how_to_link(
    bot: SlackBot,
    requests: SlackRequests,
    sandbox: SandboxServer,
    view: dict[str, Any],
) -> None:
    await bot.store.links.remove(ALICE)
    sandbox.clear_requests()

    answer = await _run_params(bot, requests, view)
    await settle()

    assert answer["response_action"] == "update"
    shown = json.dumps(answer["view"]["blocks"])
    assert "/jarvice login" in shown
    assert "took too long" not in shown
    assert sandbox.requests == []
    [entry] = [e for e in await bot.store.audit.recent() if e.kind == "view"]
    assert (entry.action, entry.outcome) == ("submit", "unlinked")


async def test_a_bad_walltime_is_explained_without_a_pattern(
    bot: SlackBot,
    requests: SlackRequests,
    view: dict[str, Any],
) -> None:
    answer = await _run_params(bot, requests, view, walltime=typed("two hours"))

    assert answer["errors"] == {"walltime": "must be HH:MM:SS, for example 02:00:00"}
