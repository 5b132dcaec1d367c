"""The client on the wire: how it sends, retries, decodes and fails."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

import httpx
import pytest

from jarvice_tools import (
    Caller,
    Credentials,
    JarviceClient,
    RetryPolicy,
    confirm,
    get_action,
)
from jarvice_tools.errors import (
    ApiError,
    BadRequest,
    MalformedResponse,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    Timeout,
    Unauthorized,
    Unreachable,
)
from jarvice_tools.models import JobRef
from tests.toollayer.support import (
    API_URL,
    APIKEY,
    ScriptedTransport,
    json_answer,
    status_answer,
    text_answer,
)

pytestmark = pytest.mark.anyio

BATCH = {
    "container": {"image": "library/ubuntu:jammy", "jobscript": "hostname"},
    "machine": {"type": "n0"},
}


def as_admin(client: JarviceClient) -> JarviceClient:
    """The same client acting for its caller marked as an administrator."""
    assert client.caller is not None
    return client.for_caller(client.caller.model_copy(update={"admin": True}))


def form_of(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode(), keep_blank_values=True)


async def test_reads_post_credentials_as_form_fields_never_in_the_url(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(status_answer(42, "SUBMITTED"))

    await client.status(42)

    request = script.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://jarvice.test/api/jarvice/status"
    assert form_of(request) == {
        "username": ["alice"],
        "apikey": [APIKEY],
        "number": ["42"],
    }


async def test_batch_sends_json_with_the_user_block(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(json_answer({"name": "20261203-X-jarvice-batch-alice_s1", "number": 9}))

    result = await client.batch(BATCH)

    body = json.loads(script.requests[0].content)
    assert body["user"] == {"username": "alice", "apikey": APIKEY}
    assert body["container"]["image"] == "library/ubuntu:jammy"
    assert body["machine"] == {"type": "n0", "nodes": 1}
    assert (result.number, result.name) == (9, "20261203-X-jarvice-batch-alice_s1")


async def test_validate_sends_the_bare_appdef_without_credentials(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(json_answer({"valid": True}))

    result = await client.validate({"name": "x"})

    assert result.valid is True
    assert json.loads(script.requests[0].content) == {"name": "x"}
    assert APIKEY not in str(script.requests[0].url)


async def test_the_documented_submission_extras_go_on_the_wire_by_their_names(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    answer = {"name": "j", "number": 9}
    script.plan(json_answer(answer), json_answer(answer))
    extras = {
        "container": {**BATCH["container"], "interactive": True},
        "vault": {"name": "s3-vault", "bucket": "results", "objects": ["a.csv"]},
        "hpc": {"hpc_queue": "short", "hpc_umask": 18, "hpc_envs": {"A": "1"}},
        "gen_sshkey": True,
        "publicIP": True,
    }

    await client.batch({**BATCH, **extras})
    await client.batch(BATCH)

    sent = json.loads(script.requests[0].content)
    assert sent["container"]["interactive"] is True
    assert sent["vault"]["bucket"] == "results"
    assert sent["hpc"] == {
        "hpc_queue": "short",
        "hpc_umask": 18,
        "hpc_envs": {"A": "1"},
    }
    assert (sent["gen_sshkey"], sent["publicIP"]) == (True, True)
    plain = json.loads(script.requests[1].content)
    assert set(plain) == {"container", "machine", "user"}
    assert set(plain["container"]) == {"image", "jobscript"}


async def test_billing_and_audit_take_typed_keywords(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(text_answer("a,b\n1,2\n"), text_answer("one line\n"))
    admin = as_admin(client)

    await admin.billing(timeperiod="last", zone="us-east", machtypes=("n0", "n3"))
    await admin.audit(quser="alice", category="job", lines=5)

    billing, audit = (form_of(request) for request in script.requests)
    assert (billing["zone"], billing["machtypes"]) == (["us-east"], ["n0,n3"])
    assert (audit["quser"], audit["category"], audit["lines"]) == (
        ["alice"],
        ["job"],
        ["5"],
    )


async def test_false_flags_are_left_out_and_lists_are_comma_joined(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(text_answer("png"), text_answer("a,b\n1,2\n"))
    admin = as_admin(client)

    with pytest.raises(MalformedResponse):
        await client.screenshot(3, emphatic=False)
    await admin.billing(statuses=["COMPLETED", "CANCELED"], itemized=False)

    assert "emphatic" not in form_of(script.requests[0])
    billing = form_of(script.requests[1])
    assert billing["statuses"] == ["COMPLETED,CANCELED"]
    assert "itemized" not in billing


@pytest.mark.parametrize(
    "filters",
    [
        {"statuses": []},
        {"statuses": ""},
        {"reportuser": ""},
        {"reportuser": " , "},
        {"machtypes": [], "statuses": [], "reportuser": []},
    ],
    ids=["statuses-list", "statuses-text", "reportuser", "only-commas", "all"],
)
async def test_empty_filters_are_left_out_of_the_request(
    client: JarviceClient, script: ScriptedTransport, filters: dict[str, object]
) -> None:
    script.plan(text_answer("a,b\n1,2\n"))
    admin = as_admin(client)

    await admin.run(get_action("billing"), {"timeperiod": "last", **filters})

    form = form_of(script.requests[0])
    assert set(form) == {"username", "apikey", "timeperiod"}


async def test_a_read_is_retried_on_503_then_succeeds(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(
        json_answer({"error": "busy"}, 503),
        json_answer({"error": "busy"}, 502),
        status_answer(1, "COMPLETED"),
    )

    statuses = await client.status(1)

    assert statuses.only()[1].job_status == "COMPLETED"
    assert len(script.requests) == 3


async def test_a_read_gives_up_after_the_last_attempt(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(*[json_answer({"error": "Service Unavailable"}, 503)] * 3)

    with pytest.raises(ServerError, match="after retries") as caught:
        await client.status(1)

    assert caught.value.status_code == 503
    assert len(script.requests) == 3


@pytest.mark.parametrize("status", [500, 501])
async def test_a_server_error_that_is_not_retried_does_not_say_it_was(
    client: JarviceClient, script: ScriptedTransport, status: int
) -> None:
    script.plan(json_answer({"error": "Unable to get user"}, status))

    with pytest.raises(ServerError) as caught:
        await client.status(1)

    assert "retries" not in str(caught.value)
    assert f"({status}: Unable to get user)" in str(caught.value)
    assert len(script.requests) == 1


async def test_a_server_error_after_a_retry_says_so(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(json_answer({"error": "busy"}, 503), json_answer({"error": "x"}, 500))

    with pytest.raises(ServerError, match="status for job 1 after retries"):
        await client.status(1)

    assert len(script.requests) == 2


async def test_a_read_timeout_is_retried(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(httpx.ReadTimeout("slow"), status_answer(1, "SUBMITTED"))

    await client.status(1)

    assert len(script.requests) == 2


async def test_read_timeouts_to_the_end_raise_timeout(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(*[httpx.ReadTimeout("slow")] * 3)

    with pytest.raises(Timeout, match="did not answer status for job 1"):
        await client.status(1)


async def test_a_timeout_with_retries_turned_off_does_not_claim_retries(
    script: ScriptedTransport, caller: Caller
) -> None:
    script.plan(httpx.ReadTimeout("slow"))
    transport = httpx.MockTransport(script.handle)
    once = RetryPolicy(attempts=1)

    async with JarviceClient(
        API_URL, caller=caller, transport=transport, retry=once
    ) as jarvice:
        with pytest.raises(Timeout, match="in time; it was not retried"):
            await jarvice.status(1)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_submission_is_never_resent_after_a_server_error(
    client: JarviceClient, script: ScriptedTransport, status: int
) -> None:
    script.plan(json_answer({"error": "upstream"}, status))

    with pytest.raises(ServerError):
        await client.batch(BATCH)

    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("t"),
        httpx.RemoteProtocolError("dropped"),
        httpx.ReadError("x"),
    ],
)
async def test_a_submission_that_may_have_arrived_is_outcome_unknown(
    client: JarviceClient, script: ScriptedTransport, failure: Exception
) -> None:
    script.plan(failure)

    with pytest.raises(OutcomeUnknown, match="may or may not have taken effect"):
        await client.batch(BATCH)

    assert len(script.requests) == 1


async def test_a_submission_that_never_connected_is_retried(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(httpx.ConnectError("refused"), json_answer({"name": "n", "number": 5}))

    result = await client.batch(BATCH)

    assert result.number == 5
    assert len(script.requests) == 2


async def test_unreachable_jarvice_says_nothing_was_sent(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(*[httpx.ConnectError("refused")] * 3)

    with pytest.raises(Unreachable, match="nothing was sent"):
        await client.batch(BATCH)


async def test_a_confirmed_terminate_dropped_midway_is_not_resent(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    yes = confirm("terminate", JobRef(number=7), username="alice", confirmed_by="t")
    script.plan(httpx.RemoteProtocolError("dropped"))

    with pytest.raises(OutcomeUnknown):
        await client.terminate(7, confirmation=yes)

    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("answer", "error", "server_message"),
    [
        (
            json_answer({"error": "No job specified"}, 400),
            BadRequest,
            "No job specified",
        ),
        (json_answer({"error": "Unauthorized"}, 401), Unauthorized, "Unauthorized"),
        (json_answer({"error": "Job not found"}, 404), NotFound, "Job not found"),
        (text_answer("Not Found", 404), NotFound, "Not Found"),
        (text_answer("", 404), NotFound, "Not Found"),
        (json_answer({"error": "teapot"}, 418), ApiError, "teapot"),
    ],
)
async def test_error_statuses_become_the_matching_exception(
    client: JarviceClient,
    script: ScriptedTransport,
    answer: httpx.Response,
    error: type[ApiError],
    server_message: str,
) -> None:
    script.plan(answer)

    with pytest.raises(error) as caught:
        await client.status(1)

    assert caught.value.server_message == server_message
    assert caught.value.endpoint == "/jarvice/status"
    assert caught.value.status_code == answer.status_code
    assert server_message in str(caught.value)


async def test_429_carries_retry_after(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(
        httpx.Response(
            429,
            json={"error": "Only one active job allowed per VM"},
            headers={"Retry-After": "30"},
        )
    )

    with pytest.raises(RateLimited) as caught:
        await client.batch(BATCH)

    assert caught.value.retry_after == 30.0
    assert len(script.requests) == 1


async def test_an_error_body_with_a_200_is_still_an_error(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(json_answer({"error": "Job is not ready yet"}))

    with pytest.raises(ApiError, match="Job is not ready yet"):
        await client.info(5)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(
            200,
            content=b'{"12": {"job_name": ',
            headers={"Content-Type": "application/json"},
        ),
        json_answer({"12": {"job_status": "COMPLETED"}}),
        json_answer(["not", "a", "map"]),
    ],
    ids=["broken-json", "missing-field", "wrong-shape"],
)
async def test_malformed_answers_are_reported_readably(
    client: JarviceClient, script: ScriptedTransport, answer: httpx.Response
) -> None:
    script.plan(answer)

    with pytest.raises(MalformedResponse, match="could not be read"):
        await client.status(12)


async def test_unknown_response_keys_are_kept(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(status_answer(12, "COMPLETED", job_new_field="kept"))

    _, job = (await client.status(12)).only()

    assert job.model_extra == {"job_new_field": "kept"}


async def test_an_unknown_status_is_not_final(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    script.plan(status_answer(12, "HIBERNATING"))

    _, job = (await client.status(12)).only()

    assert not job.is_final
    assert not job.is_running


async def test_text_png_and_csv_are_decoded_by_kind(
    client: JarviceClient, script: ScriptedTransport
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    admin = as_admin(client)
    script.plan(
        text_answer("line 1\nline 2"),
        httpx.Response(200, content=png, headers={"Content-Type": "image/png"}),
        httpx.Response(
            200,
            text="user,jobs,cost\nalice,3,1.50\nbob,1\n",
            headers={"Content-Type": "text/csv"},
        ),
    )

    assert await client.output(3) == "line 1\nline 2"
    assert await client.screenshot(3) == png
    report = await admin.billing(timeperiod="last")

    assert report.columns == ["user", "jobs", "cost"]
    assert report.rows == [
        {"user": "alice", "jobs": "3", "cost": "1.50"},
        {"user": "bob", "jobs": "1", "cost": ""},
    ]


async def test_the_key_never_appears_in_errors_or_logs(
    client: JarviceClient,
    script: ScriptedTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"bad apikey {APIKEY} for alice"
    script.plan(
        json_answer({"error": echo}, 401),
        *[httpx.ConnectError(f"apikey={APIKEY}")] * 3,
    )

    with pytest.raises(Unauthorized) as first:
        await client.status(1)
    with pytest.raises(Unreachable) as second:
        await client.status(1)

    for error in (first.value, second.value):
        assert APIKEY not in str(error)
        assert APIKEY not in repr(error.__dict__)
    assert APIKEY not in caplog.text
    assert "status job 1 for alice -> 401" in caplog.text
    assert APIKEY not in repr(client.caller)


async def test_a_refused_username_that_could_be_a_key_is_logged_masked(
    client: JarviceClient,
    script: ScriptedTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    typed = Caller(credentials=Credentials(username=APIKEY, apikey="alice"))
    script.plan(json_answer({"error": "unauthorized"}, 401))

    with pytest.raises(Unauthorized):
        await client.for_caller(typed).status(1)

    assert APIKEY not in caplog.text
    assert f"status job 1 for {APIKEY[:2]}…({len(APIKEY)} chars) -> 401" in (
        caplog.text
    )


@pytest.mark.parametrize(
    ("action", "params", "says"),
    [
        ("status", {"number": 5}, "found no job 5 for user alice"),
        ("metrics", {"number": 5}, "Metrics appear about a minute after"),
        ("output", {"number": 5}, "Output is there once a job has completed"),
        ("tail", {"number": 5}, "tail works only while a job is PROCESSING"),
        ("appdef", {"name": "nope"}, "Check the names given"),
    ],
)
async def test_a_404_is_explained_for_the_action(
    client: JarviceClient,
    script: ScriptedTransport,
    action: str,
    params: dict[str, object],
    says: str,
) -> None:
    script.plan(json_answer({"error": "Not found"}, 404))

    with pytest.raises(NotFound) as caught:
        await client.run(get_action(action), params)

    assert says in str(caught.value)
    assert "(404: Not found)" in str(caught.value)


JOB = {"job_name": "n", "job_status": "COMPLETED"}


@pytest.mark.parametrize("answer", [{}, {"1": JOB, "2": JOB}], ids=["none", "two"])
async def test_a_status_answer_without_exactly_one_job_is_malformed(
    client: JarviceClient, script: ScriptedTransport, answer: dict[str, object]
) -> None:
    script.plan(json_answer(answer))

    statuses = await client.status(1)

    with pytest.raises(MalformedResponse, match=r"held \d jobs where one was expected"):
        statuses.only()


def test_a_retry_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)
