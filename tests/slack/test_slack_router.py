"""The router's extension point, and buttons that run a command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jarvice_tools.errors import FieldProblem
from jarvice_tools.sandbox import SandboxServer
from slack_bot.args import ArgumentError, split_words
from slack_bot.bot import SlackBot, load_extensions
from slack_bot.render import RUN_ACTION_ID, run_button
from slack_bot.router import CommandContext, Reply, Subcommand
from slack_bot.testing import FakeSlack, SlackRequests
from tests.slack.slack_helpers import (
    ALICE,
    BOB,
    STRANGER,
    dispatch,
    jarvice_paths,
    link,
    running_job,
    settle,
)

pytestmark = pytest.mark.anyio

EXTENSION = """
from slack_bot.args import split_words
from slack_bot.router import Reply, Subcommand

SEEN = []


async def watch(ctx):
    SEEN.append((ctx.user_id, ctx.caller.username, ctx.prepared, ctx.channel_id))
    return Reply(f"Watching job {ctx.prepared} here.", outcome="watching",
                 detail=f"job={ctx.prepared}")


def prepare(text):
    words = split_words(text, action="watch")
    return int(words.positional[0])


def setup(bot):
    bot.router.register(Subcommand(
        name="watch", usage="watch <job>", summary="Post here when a job ends.",
        help="Alerts in this channel.", handler=watch, group="Alerts",
        prepare=prepare))
"""


@pytest.fixture
def extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "demo_alerts.py").write_text(EXTENSION)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "demo_alerts"
    sys.modules.pop("demo_alerts", None)


async def test_an_extension_adds_a_subcommand_with_help_and_audit(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    extension: str,
) -> None:
    assert load_extensions(bot, [extension, "no_such_extension"]) == [extension]
    await link(bot, sandbox, ALICE, "alice")

    overview = await dispatch(bot, requests.command("help"))
    assert "*Alerts*" in overview.body
    assert "`watch` Post here when a job ends." in overview.body
    page = await dispatch(bot, requests.command("help watch"))
    assert "Alerts in this channel." in page.body
    typo = await dispatch(bot, requests.command("wacth 1"))
    assert "Did you mean `watch`?" in typo.body

    request = requests.command("watch 42", user=ALICE)
    await dispatch(bot, request)
    answer = await fake_slack.wait_async(
        lambda: fake_slack.responses(request.response_name)
    )
    await settle()

    assert answer[0]["text"] == "Watching job 42 here."
    assert sys.modules[extension].SEEN == [(ALICE, "alice", 42, "C0001")]
    entry = (await bot.store.audit.recent(action="watch"))[0]
    assert (entry.outcome, entry.detail, entry.jarvice_username) == (
        "watching",
        "job=42",
        "alice",
    )
    assert sandbox.requests == []


async def test_an_extension_subcommand_refuses_unlinked_users_first(
    bot: SlackBot, fake_slack: FakeSlack, requests: SlackRequests, extension: str
) -> None:
    load_extensions(bot, [extension])
    request = requests.command("watch 42", user=STRANGER)
    await dispatch(bot, request)
    answer = await fake_slack.wait_async(
        lambda: fake_slack.responses(request.response_name)
    )
    assert "/jarvice login" in answer[0]["text"]
    assert sys.modules[extension].SEEN == []


async def test_names_are_registered_once(bot: SlackBot) -> None:
    async def nothing(ctx: CommandContext) -> Reply:
        return Reply("")

    with pytest.raises(ValueError, match="already registered"):
        bot.router.register(
            Subcommand(name="status", usage="status", summary="", handler=nothing)
        )
    with pytest.raises(ValueError, match="one lower-case word"):
        bot.router.register(
            Subcommand(name="Two Words", usage="", summary="", handler=nothing)
        )


async def test_prepare_refuses_bad_input_before_the_ack(
    bot: SlackBot, requests: SlackRequests
) -> None:
    async def never(ctx: CommandContext) -> Reply:
        raise AssertionError("the handler must not run")

    def prepare(text: str) -> int:
        words = split_words(text, action="pin")
        if not words.positional:
            raise ArgumentError([FieldProblem("job", "is required")], action="pin")
        return int(words.positional[0])

    bot.router.register(
        Subcommand(
            name="pin",
            usage="pin <job>",
            summary="",
            handler=never,
            prepare=prepare,
            needs_link=False,
        )
    )
    response = await dispatch(bot, requests.command("pin"))
    assert "`job` is required" in response.body


async def test_a_run_button_runs_its_command_as_whoever_clicks(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    await link(bot, sandbox, BOB, "bob")
    number = running_job(sandbox, "alice")
    button = run_button("Refresh", f"status {number}")
    assert button["action_id"] == f"{RUN_ACTION_ID}:status_{number}"

    mine = requests.click(button["action_id"], button["value"], user=ALICE)
    await dispatch(bot, mine)
    theirs = requests.click(button["action_id"], button["value"], user=BOB)
    await dispatch(bot, theirs)
    await settle()

    own = fake_slack.responses(mine.response_name)[0]
    assert f"Job {number}" in own["text"]
    other = fake_slack.responses(theirs.response_name)[0]
    assert "found no job" in other["text"]
    status_callers = [r.username for r in sandbox.requests if r.endpoint == "status"]
    assert sorted(status_callers) == ["alice", "bob"]
    clicks = [e for e in await bot.store.audit.recent() if e.kind == "click"]
    assert {e.slack_user_id for e in clicks} == {ALICE, BOB}


async def test_every_run_button_click_is_audited_even_when_answered_at_once(
    bot: SlackBot,
    requests: SlackRequests,
    sandbox: SandboxServer,
    alice: str,
) -> None:
    values = ["stauts 1", "status abc def", "help", "", "zq8Xk2pLm9Qw4Rt7"]

    for value in values:
        await dispatch(bot, requests.click(RUN_ACTION_ID, value, user=ALICE))
    await settle()

    clicks = [e for e in await bot.store.audit.recent() if e.kind == "click"]
    assert sorted((e.action, e.outcome) for e in clicks) == [
        ("(unknown)", "unknown"),
        ("(unknown)", "unknown"),
        ("help", "help"),
        ("help", "help"),
        ("status", "invalid"),
    ]
    assert all("zq8Xk2pLm9Qw4Rt7" not in e.arguments for e in clicks)
    assert jarvice_paths(sandbox) == []


async def test_a_run_button_only_runs_actions_that_read(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    alice_job: int,
) -> None:
    values = [f"terminate {alice_job}", f"shutdown {alice_job}", "logout", "login"]
    clicks = [requests.click(RUN_ACTION_ID, v, user=ALICE) for v in values]

    for click in clicks:
        await dispatch(bot, click)
    await settle()

    for click in clicks:
        [answer] = fake_slack.responses(click.response_name)
        assert "can only run actions that read" in answer["text"]
    assert jarvice_paths(sandbox) == []
    assert fake_slack.calls("views.open") == []
    assert await bot.store.links.get(ALICE) is not None
    clicks_audited = [e for e in await bot.store.audit.recent() if e.kind == "click"]
    assert {(e.action, e.outcome) for e in clicks_audited} == {
        ("terminate", "refused"),
        ("shutdown", "refused"),
        ("logout", "refused"),
        ("login", "refused"),
    }


async def test_a_failing_submit_hook_does_not_spoil_the_answer(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    async def broken(event: object) -> None:
        raise RuntimeError("hook failed")

    bot.on_job_submitted(broken)
    await link(bot, sandbox, ALICE, "alice")
    request = requests.command(
        "batch container.image=library/ubuntu container.jobscript=hostname "
        "machine.type=n0",
        user=ALICE,
    )
    await dispatch(bot, request)
    answer = await fake_slack.wait_async(
        lambda: fake_slack.responses(request.response_name)
    )
    assert "Submitted job" in answer[0]["text"]
    assert jarvice_paths(sandbox) == ["batch"]
