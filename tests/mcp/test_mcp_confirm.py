"""Confirmation of terminate, shutdown and build: asked through elicitation
in both protocol eras, or by the configured fallback when the client cannot
be asked. Nothing destructive reaches JARVICE without a yes."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CallToolResult,
    ElicitRequest,
    ElicitRequestParams,
    ElicitResult,
    InputRequiredResult,
    InputResponses,
)

from jarvice_tools.actions import registry as act
from jarvice_tools.guards import ConfirmationPreview
from mcp_server import wording
from mcp_server.confirm import STATE_TTL, ConfirmationTokens, TokenRefused
from mcp_server.server import JarviceMCPServer, build_server
from tests.mcp.mcp_harness import Harness, connect, endpoints, running_job, text_of

pytestmark = pytest.mark.anyio

READS = {"status", "jobs", "history"}


class Human:
    """An elicitation callback that answers as told and remembers the questions."""

    def __init__(self, action: str, content: dict[str, Any] | None = None) -> None:
        self.action = action
        self.content = content
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        if self.action == "accept":
            return ElicitResult(
                action="accept", content=self.content or {"confirm": True}
            )
        return ElicitResult(action=self.action)  # type: ignore[arg-type]


def token_in(text: str) -> str:
    found = re.search(r'confirmation_token="([^"]+)"', text)
    assert found, text
    return found.group(1)


async def test_accepted_terminate_runs_after_showing_the_job(
    harness: Harness, era: str
) -> None:
    number = await running_job(harness)
    human = Human("accept")

    async with connect(harness.server(), era, human) as client:
        result = await client.call_tool("jarvice_terminate", {"number": number})

    assert not result.is_error, text_of(result)
    assert len(human.questions) == 1
    question = human.questions[0]
    assert f"job {number}" in question
    assert "PROCESSING STARTING" in question
    assert "1 x n0" in question
    assert "Started:" in question
    assert "terminate" in endpoints(harness.sandbox)
    assert harness.sandbox.job(number).status == "TERMINATED"


async def test_accepted_build_shows_the_image(harness: Harness, era: str) -> None:
    human = Human("accept")

    async with connect(harness.server(), era, human) as client:
        result = await client.call_tool("jarvice_build", {"target": "alice-myapp"})

    assert not result.is_error, text_of(result)
    assert "alice-myapp" in human.questions[0]
    assert endpoints(harness.sandbox)[-1] == "build"


@pytest.mark.parametrize(
    ("answer", "content", "said"),
    [
        ("decline", None, "declined"),
        ("cancel", None, "dismissed"),
        ("accept", {"confirm": False}, "declined"),
    ],
)
async def test_no_yes_sends_nothing(
    harness: Harness, era: str, answer: str, content: dict[str, Any] | None, said: str
) -> None:
    number = await running_job(harness)
    human = Human(answer, content)

    async with connect(harness.server(), era, human) as client:
        result = await client.call_tool("jarvice_terminate", {"number": number})

    assert result.is_error
    assert said in text_of(result)
    assert "Nothing was sent to JARVICE" in text_of(result)
    assert set(endpoints(harness.sandbox)) <= READS
    assert harness.sandbox.job(number).status == "PROCESSING STARTING"


async def test_a_signal_that_ends_processes_is_asked_and_suspend_is_not(
    harness: Harness, era: str
) -> None:
    number = await running_job(harness)
    declining, accepting = Human("decline"), Human("accept")

    async with connect(harness.server(), era, declining) as client:
        refused = await client.call_tool(
            "jarvice_signal", {"number": number, "signal": 9}
        )
        suspended = await client.call_tool("jarvice_signal", {"number": number})
    sent_after_decline = endpoints(harness.sandbox).count("signal")
    async with connect(harness.server(), era, accepting) as client:
        killed = await client.call_tool(
            "jarvice_signal", {"number": number, "signal": 15}
        )

    assert refused.is_error
    assert "Nothing was sent to JARVICE" in text_of(refused)
    assert not suspended.is_error, text_of(suspended)
    assert len(declining.questions) == 1
    assert "SIGKILL" in declining.questions[0]
    assert sent_after_decline == 1
    assert not killed.is_error, text_of(killed)
    assert "SIGTERM" in accepting.questions[0]
    assert endpoints(harness.sandbox).count("signal") == 2


async def test_modern_era_asks_once_even_when_time_passes(harness: Harness) -> None:
    number = await running_job(harness)
    human = Human("accept")

    async def slow_human(context: Any, params: ElicitRequestParams) -> ElicitResult:
        harness.sandbox.advance(20)
        return await human(context, params)

    async with connect(harness.server(), "modern", slow_human) as client:
        result = await client.call_tool("jarvice_shutdown", {"number": number})

    assert not result.is_error, text_of(result)
    assert len(human.questions) == 1


def test_the_question_does_not_change_while_the_job_runs_on() -> None:
    facts: dict[str, Any] = {
        "action": "terminate",
        "fingerprint": "f",
        "summary": "Terminate job 7 (PROCESSING STARTING, running for 1m 00s)?",
        "consequence": "It stops.",
        "job_number": 7,
        "job_status": "PROCESSING STARTING",
        "machine_type": "n3",
        "nodes": 2,
    }
    early = ConfirmationPreview(**facts, run_seconds=60)
    late = ConfirmationPreview(**facts, run_seconds=95)

    def ask(preview: ConfirmationPreview, running_for: bool) -> str:
        return wording.confirmation_question(
            act.TERMINATE,
            preview,
            started="2026-01-01T10:00:00Z",
            running_for=running_for,
        )

    assert ask(early, False) == ask(late, False)
    assert "Running for: 1m 00s" in ask(early, True)


async def test_deny_fallback_refuses_and_sends_nothing(
    harness: Harness, era: str
) -> None:
    number = await running_job(harness)

    async with connect(harness.server(confirm_fallback="deny"), era) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        result = await client.call_tool("jarvice_terminate", {"number": number})

    assert result.is_error
    assert "cannot ask for one" in text_of(result)
    assert harness.sandbox.requests == []
    assert (
        "confirmation_token"
        not in listed["jarvice_terminate"].input_schema["properties"]
    )


async def test_token_fallback_previews_then_runs_once(
    harness: Harness, era: str
) -> None:
    number = await running_job(harness)

    async with connect(harness.server(confirm_fallback="token"), era) as client:
        first = await client.call_tool("jarvice_terminate", {"number": number})
        assert first.is_error
        assert "terminate" not in endpoints(harness.sandbox)
        assert f"Terminate job {number}" in text_of(first)
        token = token_in(text_of(first))

        second = await client.call_tool(
            "jarvice_terminate", {"number": number, "confirmation_token": token}
        )
        assert not second.is_error, text_of(second)
        assert endpoints(harness.sandbox).count("terminate") == 1

        harness.sandbox.clear_requests()
        replay = await client.call_tool(
            "jarvice_terminate", {"number": number, "confirmation_token": token}
        )

    assert replay.is_error
    assert "already used" in text_of(replay)
    assert harness.sandbox.requests == []


async def test_an_expired_token_runs_nothing(harness: Harness, era: str) -> None:
    number = await running_job(harness)

    async with connect(harness.server(confirm_fallback="token"), era) as client:
        first = await client.call_tool("jarvice_terminate", {"number": number})
        token = token_in(text_of(first))
        harness.clock.advance(301)
        harness.sandbox.clear_requests()
        late = await client.call_tool(
            "jarvice_terminate", {"number": number, "confirmation_token": token}
        )

    assert late.is_error
    assert "expired" in text_of(late)
    assert harness.sandbox.requests == []


async def test_a_token_for_other_arguments_runs_nothing(
    harness: Harness, era: str
) -> None:
    number = await running_job(harness)
    other = await running_job(harness)

    async with connect(harness.server(confirm_fallback="token"), era) as client:
        first = await client.call_tool("jarvice_terminate", {"number": number})
        token = token_in(text_of(first))
        harness.sandbox.clear_requests()
        wrong = await client.call_tool(
            "jarvice_terminate", {"number": other, "confirmation_token": token}
        )
        spent = await client.call_tool(
            "jarvice_terminate", {"number": number, "confirmation_token": token}
        )

    assert wrong.is_error
    assert "different call" in text_of(wrong)
    assert spent.is_error
    assert "terminate" not in endpoints(harness.sandbox)


async def test_a_token_does_not_replace_asking_a_client_that_can_ask(
    harness: Harness, era: str
) -> None:
    number = await running_job(harness)
    server = harness.server(confirm_fallback="token")
    async with connect(server, era) as blind:
        token = token_in(
            text_of(await blind.call_tool("jarvice_terminate", {"number": number}))
        )

    human = Human("decline")
    async with connect(server, era, human) as client:
        result = await client.call_tool(
            "jarvice_terminate", {"number": number, "confirmation_token": token}
        )

    assert result.is_error
    assert len(human.questions) == 1
    assert "terminate" not in endpoints(harness.sandbox)


async def test_a_model_supplied_confirm_flag_is_refused(
    harness: Harness, era: str
) -> None:
    number = await running_job(harness)

    async with connect(harness.server(), era) as client:
        result = await client.call_tool(
            "jarvice_terminate", {"number": number, "confirm": True}
        )

    assert result.is_error
    assert "confirm is not a parameter" in text_of(result)
    assert harness.sandbox.requests == []


def test_tokens_are_bound_to_the_principal() -> None:
    tokens = ConfirmationTokens(ttl=60, clock=lambda: 0.0)
    token = tokens.issue("terminate", "digest", "token:alice")

    with pytest.raises(TokenRefused, match="different call"):
        tokens.redeem(
            token, "terminate", "digest", "token:mallory", "jarvice_terminate"
        )
    with pytest.raises(TokenRefused, match="not valid"):
        tokens.redeem(token, "terminate", "digest", "token:alice", "jarvice_terminate")


ACCEPTED = ElicitResult(action="accept", content={"confirm": True})
KEYS = "k" * 40


async def first_round(
    server: JarviceMCPServer, tool: str, arguments: dict[str, Any]
) -> tuple[InputRequiredResult, InputResponses]:
    """The question round of a 2026-07-28 confirmation, and a yes to it."""
    async with connect(server, "modern", Human("accept")) as client:
        asked = await client.session.call_tool(
            tool, arguments, allow_input_required=True
        )
    assert isinstance(asked, InputRequiredResult)
    return asked, dict.fromkeys(asked.input_requests, ACCEPTED)


async def answer_round(
    server: JarviceMCPServer,
    tool: str,
    arguments: dict[str, Any],
    asked: InputRequiredResult,
    answers: InputResponses,
) -> CallToolResult | InputRequiredResult:
    """Send the answered round to `server`, as a client (or a replay) would;
    a protocol error is raised once the connection is closed."""
    async with connect(server, "modern", Human("accept")) as client:
        try:
            return await client.session.call_tool(
                tool,
                arguments,
                input_responses=answers,
                request_state=asked.request_state,
                allow_input_required=True,
            )
        except MCPError as error:
            refused = error
    raise refused


def question_of(result: InputRequiredResult) -> str:
    (request,) = result.input_requests.values()
    assert isinstance(request, ElicitRequest)
    return request.params.message


async def test_replicas_sharing_state_keys_finish_each_others_confirmations(
    harness: Harness,
) -> None:
    number = await running_job(harness)
    arguments = {"number": number}
    asker, replica = harness.server(state_keys=KEYS), harness.server(state_keys=KEYS)
    stranger = harness.server(state_keys="z" * 40)

    asked, answers = await first_round(asker, "jarvice_terminate", arguments)
    with pytest.raises(MCPError, match="requestState"):
        await answer_round(stranger, "jarvice_terminate", arguments, asked, answers)
    assert "terminate" not in endpoints(harness.sandbox)
    done = await answer_round(replica, "jarvice_terminate", arguments, asked, answers)

    assert isinstance(done, CallToolResult)
    assert not done.is_error, text_of(done)
    assert endpoints(harness.sandbox).count("terminate") == 1


async def test_an_answered_round_sent_again_runs_nothing_more(harness: Harness) -> None:
    number = await running_job(harness)
    arguments = {"number": number, "signal": 10}
    server = harness.server()

    asked, answers = await first_round(server, "jarvice_signal", arguments)
    done = await answer_round(server, "jarvice_signal", arguments, asked, answers)
    with pytest.raises(MCPError, match="requestState"):
        await answer_round(server, "jarvice_signal", arguments, asked, answers)

    assert isinstance(done, CallToolResult)
    assert not done.is_error, text_of(done)
    assert endpoints(harness.sandbox).count("signal") == 1


@pytest.mark.parametrize(
    ("tool", "extra", "then", "shown"),
    [
        ("jarvice_terminate", {}, None, "TERMINATED"),
        ("jarvice_signal", {"signal": 10}, "COMPLETED", "COMPLETED"),
    ],
)
async def test_a_replica_asks_again_when_the_job_moved_on_since_the_question(
    harness: Harness, tool: str, extra: dict[str, Any], then: str | None, shown: str
) -> None:
    """Replaying an answered round on another replica after the job changed
    (terminated by the round itself, or ended): it is not as the question
    showed it, so the person is asked again."""
    number = await running_job(harness)
    arguments = {"number": number, **extra}
    asker, replica = harness.server(state_keys=KEYS), harness.server(state_keys=KEYS)

    asked, answers = await first_round(asker, tool, arguments)
    await answer_round(asker, tool, arguments, asked, answers)
    if then:
        harness.sandbox.set_status(number, then)
    replayed = await answer_round(replica, tool, arguments, asked, answers)

    assert isinstance(replayed, InputRequiredResult)
    assert shown in question_of(replayed)
    action = tool.removeprefix("jarvice_")
    assert endpoints(harness.sandbox).count(action) == 1


async def test_no_replica_accepts_an_answered_round_after_the_state_ttl(
    harness: Harness,
) -> None:
    number = await running_job(harness)
    arguments = {"number": number, "signal": 10}
    asker = harness.server(state_keys=KEYS)
    later = harness.runtime(state_keys=KEYS)
    replica = build_server(later)
    assert STATE_TTL == 120

    asked, answers = await first_round(asker, "jarvice_signal", arguments)
    await answer_round(asker, "jarvice_signal", arguments, asked, answers)
    later.now = lambda: time.time() + 121
    with pytest.raises(MCPError, match="requestState"):
        await answer_round(replica, "jarvice_signal", arguments, asked, answers)

    assert endpoints(harness.sandbox).count("signal") == 1


async def test_without_affinity_a_replica_runs_an_answered_round_within_the_ttl(
    harness: Harness,
) -> None:
    """The documented limit (docs/mcp.md, Limitations): replicas share keys
    but not memory, so an answered round replayed on another replica before
    the state expires, to a job still as the question showed it, runs again.
    Session affinity (or one replica) closes it."""
    number = await running_job(harness)
    arguments = {"number": number, "signal": 10}
    asker, replica = harness.server(state_keys=KEYS), harness.server(state_keys=KEYS)

    asked, answers = await first_round(asker, "jarvice_signal", arguments)
    await answer_round(asker, "jarvice_signal", arguments, asked, answers)
    replayed = await answer_round(replica, "jarvice_signal", arguments, asked, answers)

    assert isinstance(replayed, CallToolResult)
    assert endpoints(harness.sandbox).count("signal") == 2


async def test_a_token_round_logs_no_token(
    harness: Harness, era: str, caplog: pytest.LogCaptureFixture
) -> None:
    number = await running_job(harness)
    caplog.set_level(logging.DEBUG)

    async with connect(harness.server(confirm_fallback="token"), era) as client:
        first = await client.call_tool("jarvice_terminate", {"number": number})
        token = token_in(text_of(first))
        await client.call_tool(
            "jarvice_terminate", {"number": number, "confirmation_token": token}
        )
        await client.call_tool(
            "jarvice_terminate", {"number": number, "confirmation_token": token}
        )

    assert any("jarvice_terminate" in r.getMessage() for r in caplog.records)
    assert token not in caplog.text
    assert token.removeprefix("confirm-") not in caplog.text
