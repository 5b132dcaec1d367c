"""The fake Slack refuses blocks as Slack does, and what the app sends passes.

Slack answers `invalid_blocks` (a response_url: HTTP 400) to a message whose
block repeats an action_id, a text over its limit, too many blocks...; the
user then sees nothing. The fake makes the same checks, so a rendering
Slack would refuse fails its test.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from jarvice_tools.sandbox import SandboxServer
from slack_bot.alerts.messages import JobFacts, final_alert
from slack_bot.blocks import actions, button, header, plain, run_button, section
from slack_bot.bot import SlackBot
from slack_bot.testing import FakeSlack, SlackRequests, message_problems, view_problems
from tests.slack.slack_helpers import ALICE, dispatch, jarvice_paths, settle

pytestmark = pytest.mark.anyio


def _button(action_id: str, text: str = "Go") -> dict[str, Any]:
    label = {"type": "plain_text", "text": text}
    return {"type": "button", "text": label, "action_id": action_id}


def _actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([actions(_button("a"), _button("a"))], "action_id 'a' is used twice"),
        ([actions(_button("a")), actions(_button("a"))], "'a' is used twice"),
        (
            [section("x") | {"block_id": "b"}, section("y") | {"block_id": "b"}],
            "block_id 'b' is used twice",
        ),
        ([section("x")] * 51, "51 blocks; at most 50"),
        ([_actions(*[_button(f"a{i}") for i in range(26)])], "26 items"),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "at most 150",
        ),
        ([_actions(_button("a", "b" * 76))], "at most 75"),
        (
            [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}],
            "at most 3000",
        ),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "empty"),
        ([{"type": "section"}], "needs a text or fields"),
    ],
)
def test_blocks_slack_would_refuse_are_named(
    blocks: list[dict[str, Any]], problem: str
) -> None:
    problems = message_problems(blocks)

    assert any(problem in p for p in problems), problems


def test_a_modal_allows_the_same_action_id_in_different_inputs() -> None:
    inputs = [
        {
            "type": "input",
            "block_id": name,
            "label": plain(name),
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
        for name in ("one", "two")
    ]
    view = {"type": "modal", "title": plain("Form"), "submit": plain("Go")}

    assert view_problems(view | {"blocks": inputs}) == []
    assert "at most 100" in " ".join(view_problems(view | {"blocks": inputs * 51}))
    too_long = view | {"blocks": [], "title": plain("t" * 25)}
    assert "at most 24" in " ".join(view_problems(too_long))


async def test_the_fake_answers_invalid_blocks_like_slack(
    fake_slack: FakeSlack,
) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    twice = [actions(_button("a"), _button("a"))]

    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="t", blocks=twice)
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            fake_slack.response_url("r"), json={"text": "t", "blocks": twice}
        )

    assert refused.value.response["error"] == "invalid_blocks"
    assert (answer.status_code, answer.text) == (400, "invalid_blocks")
    assert fake_slack.responses("r") == []
    assert [c.method for c in fake_slack.refused()] == ["chat.postMessage", "respond"]


def test_the_apps_own_cards_pass_slacks_checks() -> None:
    facts = JobFacts(12, "COMPLETED WITH ERROR", "job", "app", "n3", 2, None, None)
    alert = final_alert(facts, owner="<@U1>", output=None)
    cards = [
        alert["blocks"],
        [header("h" * 500), section("s" * 5000)],
        [actions(run_button("Status", "status 1"), run_button("Tail", "tail 1"))],
        [actions(button("x" * 300, "id", "v" * 3000))],
    ]

    for blocks in cards:
        assert message_problems(blocks) == []


async def test_a_running_jobs_card_and_the_submit_reply_reach_slack(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    alice_job: int,
) -> None:
    number = alice_job
    status = requests.command(f"status {number}", user=ALICE)
    batch = requests.command(
        "batch container.image=library/ubuntu container.jobscript=hostname "
        "machine.type=n3",
        user=ALICE,
    )

    await dispatch(bot, status)
    await dispatch(bot, batch)
    await settle()

    assert fake_slack.refused() == []
    [card] = fake_slack.responses(status.response_name)
    [reply] = fake_slack.responses(batch.response_name)
    ids = [
        e["action_id"]
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert ids == [
        f"jarvice_run:status_{number}",
        f"jarvice_run:tail_{number}",
        f"jarvice_run:metrics_{number}",
    ]
    assert [b["type"] for b in reply["blocks"]] == ["section", "actions"]


async def test_each_run_button_and_an_old_plain_one_run_their_command(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    alice_job: int,
) -> None:
    number = alice_job
    tail = run_button("Tail", f"tail {number}")
    clicks = [
        requests.click(tail["action_id"], tail["value"], user=ALICE),
        requests.click("jarvice_run", f"metrics {number}", user=ALICE),
    ]

    for click in clicks:
        await dispatch(bot, click)
    await settle()

    assert jarvice_paths(sandbox) == ["tail", "metrics"]
    for click in clicks:
        assert fake_slack.responses(click.response_name)
