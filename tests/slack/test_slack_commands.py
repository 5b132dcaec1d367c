"""`/jarvice <action>` through `app.async_dispatch` with signed requests,
against the fake Slack Web API and the sandbox as JARVICE."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from jarvice_tools.actions import ACTIONS
from jarvice_tools.client import JarviceClient
from jarvice_tools.sandbox import SandboxServer
from jarvice_tools.settings import Caller, Credentials
from jarvice_tools.summaries import bound_text
from slack_bot.alerts.messages import JobFacts, final_alert
from slack_bot.bot import JobSubmitted, SlackBot
from slack_bot.store import AuditEntry
from slack_bot.testing import FakeSlack, SlackRequests
from tests.slack.slack_helpers import (
    ADMIN,
    ALICE,
    STRANGER,
    dispatch,
    jarvice_paths,
    link,
    settle,
)

pytestmark = pytest.mark.anyio


def _text(message: dict[str, Any]) -> str:
    """Everything readable in a message: its text and its blocks."""
    return message.get("text", "") + json.dumps(message.get("blocks", []))


async def _answer(
    bot: SlackBot, fake: FakeSlack, requests: SlackRequests, text: str, user: str
) -> dict[str, Any]:
    request = requests.command(text, user=user)
    response = await dispatch(bot, request)
    assert response.status == 200
    assert response.body == ""
    bodies = await fake.wait_async(lambda: fake.responses(request.response_name))
    return dict(bodies[0])


def _private_file(fake: FakeSlack, user: str) -> tuple[str, bytes]:
    """The one file uploaded, which must be in `user`'s direct messages:
    its name and its content."""
    [asked] = fake.calls("files.getUploadURLExternal")
    [complete] = fake.calls("files.completeUploadExternal")
    assert complete.body["channel_id"] == f"D{user}"
    [uploaded] = fake.calls("upload")
    return str(asked.body["filename"]), uploaded.raw


async def _running_job(sandbox: SandboxServer, user: str) -> int:
    account = sandbox.account(user)
    caller = Caller(credentials=Credentials(username=user, apikey=account.apikey))
    async with JarviceClient(sandbox.url, caller=caller) as client:
        job = await client.batch(
            {
                "container": {"image": "library/ubuntu:jammy", "jobscript": "hostname"},
                "machine": {"type": "n3", "nodes": 2},
            }
        )
    sandbox.set_status(job.number, "PROCESSING STARTING")
    sandbox.clear_requests()
    return job.number


async def test_status_answers_with_a_job_card_as_the_linked_user(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    number = await _running_job(sandbox, "alice")

    message = await _answer(bot, fake_slack, requests, f"status {number}", ALICE)

    assert message["response_type"] == "ephemeral"
    shown = _text(message)
    assert f"Job {number}" in shown
    assert ":arrow_forward:" in shown
    assert "n3 x 2" in shown
    assert "PROCESSING STARTING" in shown
    assert jarvice_paths(sandbox)[0] == "status"
    assert {r.username for r in sandbox.requests} == {"alice"}


async def test_tail_shows_the_output_in_a_code_block(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    number = next(
        j.number for j in sandbox.jobs_of("alice") if j.status == "TERMINATED"
    )

    message = await _answer(
        bot, fake_slack, requests, f"output {number} lines=3", ALICE
    )

    shown = _text(message)
    assert "```" in shown
    assert "epoch 12/100" in shown
    assert "epoch 9/100" not in shown
    assert sandbox.requests[-1].params.get("lines") == "3"


async def test_jobs_lists_completed_jobs_newest_first(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")

    message = await _answer(bot, fake_slack, requests, "jobs completed", ALICE)

    numbers = [j.number for j in sandbox.jobs_of("alice")]
    shown = _text(message)
    positions = [shown.index(f"*{n}*") for n in sorted(numbers, reverse=True)]
    assert positions == sorted(positions)
    assert ":x:" in shown
    assert sandbox.requests[-1].params.get("completed") == "true"


async def test_machines_come_as_a_table(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")

    message = await _answer(bot, fake_slack, requests, "machines", ALICE)

    shown = _text(message)
    assert "type" in shown
    assert "cores" in shown
    assert "n3" in shown


async def test_a_mistyped_action_gets_a_suggestion_and_nothing_is_sent(
    bot: SlackBot, requests: SlackRequests, sandbox: SandboxServer
) -> None:
    await link(bot, sandbox, ALICE, "alice")

    response = await dispatch(bot, requests.command("stauts 42", user=ALICE))

    assert response.status == 200
    assert "Did you mean `status`?" in response.body
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("tail 12 lnes=5", "did you mean lines?"),
        ("tail 12 lines=-1", "`lines` must be greater than or equal to 0"),
        ("status", "`number` give the job number"),
        ("status 1 2", "one value too many"),
        ("vault", "`vault` is required"),
        ("signal 5 SIGCONT", "give the signal as a number: SIGCONT is 18"),
        ('batch container.jobscript="x', "unclosed quote"),
    ],
)
async def test_bad_arguments_name_the_field_and_nothing_is_sent(
    bot: SlackBot,
    requests: SlackRequests,
    sandbox: SandboxServer,
    text: str,
    says: str,
) -> None:
    await link(bot, sandbox, ALICE, "alice")

    response = await dispatch(bot, requests.command(text, user=ALICE))

    assert response.status == 200
    assert says in response.body
    assert "nothing was sent to JARVICE" in response.body
    assert sandbox.requests == []


async def test_an_unlinked_user_is_told_how_to_link_and_nothing_is_sent(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    message = await _answer(bot, fake_slack, requests, "jobs", STRANGER)

    assert "/jarvice login" in message["text"]
    assert sandbox.requests == []


async def test_help_lists_every_action_and_explains_one(
    bot: SlackBot, requests: SlackRequests
) -> None:
    overview = await dispatch(bot, requests.command("help"))
    assert overview.status == 200
    for name in [*ACTIONS, "login", "logout", "whoami", "audit-log"]:
        assert f"`{name}`" in overview.body

    page = await dispatch(bot, requests.command("help tail"))
    assert "lines" in page.body
    assert "/jarvice tail <job number>" in page.body
    assert "JARVICE's default is 100" in page.body

    confirm_page = await dispatch(bot, requests.command("terminate help"))
    assert "Needs your confirmation" in confirm_page.body


async def test_admin_actions_are_refused_to_others_with_the_reason(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "admin")

    message = await _answer(bot, fake_slack, requests, "billing", ALICE)

    assert "SLACK_ADMIN_USERS" in message["text"]
    assert ALICE in message["text"]
    assert sandbox.requests == []


async def test_billing_arrives_as_a_csv_file_in_a_direct_message(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ADMIN, "admin")

    message = await _answer(bot, fake_slack, requests, "billing timeperiod=last", ADMIN)

    assert "direct messages" in message["text"]
    opened = fake_slack.calls("conversations.open")
    assert opened[0].body["users"] == ADMIN
    filename, content = _private_file(fake_slack, ADMIN)
    assert content.startswith(b"Job Number") or b"," in content
    assert filename.endswith(".csv")
    complete = fake_slack.calls("files.completeUploadExternal")[0].body
    assert "billing report" in complete["files"]


async def test_a_screenshot_is_uploaded_as_an_image(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "bob")
    desktop = next(
        j.number for j in sandbox.jobs_of("bob") if j.status == "PROCESSING STARTING"
    )

    await _answer(bot, fake_slack, requests, f"screenshot {desktop}", ALICE)

    filename, content = _private_file(fake_slack, ALICE)
    assert content.startswith(b"\x89PNG")
    assert filename == f"screenshot-{desktop}.png"


async def test_a_batch_command_submits_and_announces_the_job(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    submitted: list[JobSubmitted],
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    text = (
        "batch container.image=library/ubuntu:jammy "
        "container.jobscript='echo hi' machine.type=n3 machine.nodes=2"
    )

    message = await _answer(bot, fake_slack, requests, text, ALICE)

    assert len(submitted) == 1
    event = submitted[0]
    assert f"job *{event.number}*" in message["text"]
    assert (event.channel_id, event.slack_user_id) == ("C0001", ALICE)
    assert event.jarvice_username == "alice"
    assert sandbox.job(event.number).nodes == 2


async def test_a_jarvice_error_is_shown_as_a_sentence(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")

    message = await _answer(bot, fake_slack, requests, "status 999999", ALICE)

    assert "found no job 999999" in message["text"]


async def test_every_command_is_audited_and_admins_can_read_it_back(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
) -> None:
    await link(bot, sandbox, ALICE, "alice")
    await _answer(bot, fake_slack, requests, "jobs", ALICE)
    await settle()
    await dispatch(bot, requests.command("stauts", user=ALICE))
    await settle()

    entries = await bot.store.audit.recent()
    assert [(e.action, e.outcome, e.jarvice_username) for e in entries] == [
        ("(unknown)", "unknown", None),
        ("jobs", "ok", "alice"),
    ]

    refused = await _answer(bot, fake_slack, requests, "audit-log", ALICE)
    assert "SLACK_ADMIN_USERS" in refused["text"]

    shown = _text(await _answer(bot, fake_slack, requests, "audit-log", ADMIN))
    assert "command:jobs" in shown
    assert ALICE in shown


async def test_a_long_audit_log_shows_whole_rows_and_sends_the_rest_as_csv(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
) -> None:
    for index in range(100):
        await bot.store.audit.record(
            AuditEntry(
                kind="command",
                slack_user_id=ALICE,
                action="tail",
                arguments=f"number={index} lines=50 and a long tail of words",
                outcome="ok",
            )
        )

    message = await _answer(bot, fake_slack, requests, "audit-log limit=100", ADMIN)

    table = message["blocks"][1]["text"]["text"].strip("`").splitlines()
    rows = table[2:]
    assert 0 < len(rows) < 100
    assert all(row.rstrip().endswith("ok") for row in rows)
    note = message["blocks"][2]["elements"][0]["text"]
    assert f"Showing the newest {len(rows)} of 100 entries" in note
    assert "CSV file in your direct messages" in note
    filename, content = _private_file(fake_slack, ADMIN)
    lines = content.decode().splitlines()
    assert lines[0].startswith("at,kind,slack_user_id")
    assert (len(lines), filename[-4:]) == (101, ".csv")


async def test_a_short_audit_log_fits_in_the_message_without_a_file(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
) -> None:
    await bot.store.audit.record(
        AuditEntry(kind="command", slack_user_id=ALICE, action="jobs", outcome="ok")
    )

    message = await _answer(bot, fake_slack, requests, "audit-log", ADMIN)

    assert len(message["blocks"]) == 2
    assert fake_slack.calls("upload") == []


def _long_job(sandbox: SandboxServer, user: str, lines: int) -> int:
    """A completed job of `user` whose output has `lines` numbered lines."""
    account = sandbox.account(user)
    script = "; ".join(f"echo line {i:03d} of the output" for i in range(lines))
    body = {
        "container": {"image": "library/ubuntu:jammy", "jobscript": script},
        "machine": {"type": "n3", "nodes": 1},
        "user": {"username": user, "apikey": account.apikey},
    }
    answer = httpx.post(f"{sandbox.url}/jarvice/batch", json=body, timeout=10)
    number = int(answer.json()["number"])
    sandbox.advance(60)
    sandbox.clear_requests()
    return number


@pytest.fixture
def long_job(sandbox: SandboxServer, alice: str) -> int:
    """Alice linked, with a completed job of 300 lines of output."""
    return _long_job(sandbox, "alice", 300)


async def test_output_too_long_for_slack_arrives_whole_as_a_private_file(
    bot: SlackBot, fake_slack: FakeSlack, requests: SlackRequests, long_job: int
) -> None:
    number = long_job
    message = await _answer(
        bot, fake_slack, requests, f"output {number} lines=0", ALICE
    )

    shown = _text(message)
    assert "line 299 of the output" in shown
    assert "line 000 of the output" not in shown
    note = message["blocks"][-1]["elements"][0]["text"]
    assert "the whole text is in a file in your direct messages" in note
    assert "lines=N" not in shown
    filename, content = _private_file(fake_slack, ALICE)
    assert filename == f"output-{number}.txt"
    assert "line 000 of the output" in content.decode()
    assert "line 299 of the output" in content.decode()


async def test_the_alerts_full_output_button_sends_the_whole_text(
    bot: SlackBot, fake_slack: FakeSlack, requests: SlackRequests, long_job: int
) -> None:
    facts = JobFacts(long_job, "COMPLETED", "job", None, "n3", 1, None, None)
    alert = final_alert(facts, owner="<@U1>", output=None)
    full = next(b for b in alert["blocks"] if b["type"] == "actions")["elements"][0]

    click = requests.click(full["action_id"], full["value"], user=ALICE)
    await dispatch(bot, click)
    await settle()

    [answer] = fake_slack.responses(click.response_name)
    assert "direct messages" in json.dumps(answer["blocks"])
    assert b"line 000 of the output" in _private_file(fake_slack, ALICE)[1]


async def test_output_that_fits_is_not_sent_as_a_file(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    alice: str,
) -> None:
    number = _long_job(sandbox, "alice", 5)

    message = await _answer(bot, fake_slack, requests, f"output {number}", ALICE)

    assert "line 004 of the output" in _text(message)
    assert [b["type"] for b in message["blocks"]] == ["section", "section"]
    assert fake_slack.calls("upload") == []


def test_an_alerts_cut_output_points_to_the_full_output_button() -> None:
    text = "\n".join(f"line {i}" for i in range(500))
    output = bound_text(text, max_lines=20, max_bytes=2000)
    facts = JobFacts(7, "COMPLETED WITH ERROR", "job", None, "n3", 1, None, None)

    alert = final_alert(facts, owner="<@U1>", output=output)

    note = next(b for b in alert["blocks"] if b["type"] == "context")
    assert note["elements"][0]["text"] == (
        "Showing the last 20 of 500 lines. *Full output* sends you the whole "
        "text as a file, privately."
    )


async def test_a_completed_jobs_card_shows_its_machine_and_owner(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    sandbox: SandboxServer,
    alice: str,
) -> None:
    number = await _running_job(sandbox, "alice")
    sandbox.set_status(number, "COMPLETED")
    sandbox.clear_requests()

    message = await _answer(bot, fake_slack, requests, f"status {number}", ALICE)

    shown = _text(message)
    assert "*Machine*\\nn3 x 2" in shown
    assert "*Owner*\\nalice" in shown
    assert [(r.endpoint, r.params.get("completed")) for r in sandbox.requests] == [
        ("status", None),
        ("jobs", "true"),
    ]


async def test_a_text_result_without_a_job_names_its_title_once(
    bot: SlackBot,
    fake_slack: FakeSlack,
    requests: SlackRequests,
    alice: str,
) -> None:
    message = await _answer(bot, fake_slack, requests, "history alice-myapp", ALICE)

    assert message["text"] == "Image build history"
    assert message["blocks"][0]["text"]["text"] == "*Image build history*"


async def test_help_on_an_unknown_topic_does_not_repeat_a_pasted_key(
    bot: SlackBot, requests: SlackRequests, sandbox: SandboxServer
) -> None:
    key = sandbox.account("alice").apikey

    pasted = await dispatch(bot, requests.command(f"help {key}", user=ALICE))
    typo = await dispatch(bot, requests.command("help stauts", user=ALICE))

    assert key not in pasted.body
    assert "There is no action by that name" in pasted.body
    assert "`stauts`" in typo.body
    assert "Did you mean `status`?" in typo.body


async def test_a_bad_walltime_argument_is_explained_without_a_pattern(
    bot: SlackBot,
    requests: SlackRequests,
    sandbox: SandboxServer,
    alice: str,
) -> None:
    text = (
        "submit jarvice-params application.command=run "
        "application.walltime=soon machine.type=n3"
    )

    response = await dispatch(bot, requests.command(text, user=ALICE))

    assert "`application.walltime` must be HH:MM:SS, for example" in response.body
    assert "pattern" not in response.body
    assert sandbox.requests == []
