"""jarvice_tools.metrics and jarvice_tools.health: real requests to the
sandbox through the metered transport, and the operations routes served
through httpx's ASGI transport."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client import REGISTRY

from jarvice_tools import Caller, Credentials, JarviceClient
from jarvice_tools.errors import Unauthorized
from jarvice_tools.health import (
    ASGIApp,
    ReadyCheck,
    Receive,
    Scope,
    Send,
    jarvice_check,
    with_ops_routes,
)
from jarvice_tools.metrics import (
    MeteredTransport,
    record_alert,
    set_outbox_depth,
    time_poll,
)
from jarvice_tools.sandbox import SandboxServer

pytestmark = pytest.mark.anyio


def sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels or None)
    return value or 0.0


def caller_for(sandbox: SandboxServer, *, apikey: str | None = None) -> Caller:
    account = sandbox.account("alice")
    return Caller(
        credentials=Credentials(
            username=account.username, apikey=apikey or account.apikey
        )
    )


async def test_requests_to_jarvice_are_counted_by_action_and_status(
    sandbox: SandboxServer,
) -> None:
    ok = sample("jarvice_api_requests_total", action="jobs", status="200")
    refused = sample("jarvice_api_requests_total", action="jobs", status="401")
    timed = sample("jarvice_api_request_seconds_count", action="jobs")

    async with JarviceClient(
        sandbox.url, caller=caller_for(sandbox), transport=MeteredTransport()
    ) as client:
        await client.jobs()
        await client.jobs()
        with pytest.raises(Unauthorized):
            await client.for_caller(caller_for(sandbox, apikey="wrong")).jobs()

    assert sample("jarvice_api_requests_total", action="jobs", status="200") == ok + 2
    assert (
        sample("jarvice_api_requests_total", action="jobs", status="401") == refused + 1
    )
    assert sample("jarvice_api_request_seconds_count", action="jobs") == timed + 3


async def test_no_answer_is_counted_as_an_error_and_still_raised() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    before = sample("jarvice_api_requests_total", action="status", status="error")
    transport = MeteredTransport(httpx.MockTransport(refuse))
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(httpx.ConnectError):
            await http.post("http://jarvice.test/api/jarvice/status")
    after = sample("jarvice_api_requests_total", action="status", status="error")
    assert after == before + 1


async def test_unknown_paths_share_one_label() -> None:
    transport = MeteredTransport(httpx.MockTransport(lambda r: httpx.Response(404)))
    before = sample("jarvice_api_requests_total", action="other", status="404")
    async with httpx.AsyncClient(transport=transport) as http:
        await http.get("http://jarvice.test/api/jarvice/no-such-thing-12345")
    after = sample("jarvice_api_requests_total", action="other", status="404")
    assert after == before + 1


def test_alerts_outbox_and_poll_hooks_feed_their_metrics() -> None:
    sent = sample("jarvice_alerts_sent_total", outcome="sent")
    polls = sample("jarvice_poll_seconds_count")
    record_alert("sent")
    set_outbox_depth(7)
    with pytest.raises(RuntimeError), time_poll():
        raise RuntimeError("a failed cycle is timed too")
    assert sample("jarvice_alerts_sent_total", outcome="sent") == sent + 1
    assert sample("jarvice_alert_outbox_depth") == 7
    assert sample("jarvice_poll_seconds_count") == polls + 1
    with pytest.raises(ValueError, match="sent, retry, failed"):
        record_alert("maybe")


async def _true() -> bool:
    return True


async def _false() -> bool:
    return False


async def _broken() -> bool:
    raise OSError("database gone")


async def _slow() -> bool:
    await asyncio.Event().wait()
    return True


async def inner_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"inner"})


def client_for(
    checks: dict[str, ReadyCheck], app: ASGIApp | None = inner_app
) -> httpx.AsyncClient:
    ops = with_ops_routes(app, checks=checks, timeout=0.2)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ops), base_url="http://app.test"
    )


async def test_ready_is_200_when_every_check_passes(sandbox: SandboxServer) -> None:
    async with JarviceClient(sandbox.url) as jarvice:
        checks = {"jarvice": jarvice_check(jarvice), "database": _true}
        async with client_for(checks) as http:
            answer = await http.get("/ready")
    assert answer.status_code == 200
    assert answer.json() == {
        "ready": True,
        "checks": {"jarvice": True, "database": True},
    }


async def test_ready_is_503_naming_the_failed_checks(sandbox: SandboxServer) -> None:
    sandbox.inject_fault("ready", status=503, times=1)
    async with JarviceClient(sandbox.url) as jarvice:
        checks = {
            "jarvice": jarvice_check(jarvice),
            "database": _broken,
            "slow": _slow,
            "fine": _true,
        }
        async with client_for(checks) as http:
            answer = await http.get("/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {
        "jarvice": False,
        "database": False,
        "slow": False,
        "fine": True,
    }
    assert "database gone" not in answer.text


async def test_health_only_says_the_process_serves() -> None:
    async with client_for({"database": _false}) as http:
        health = await http.get("/health")
        other = await http.get("/slack/events")
        wrong = await http.post("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert other.text == "inner"
    assert wrong.status_code == 405


async def test_metrics_route_serves_prometheus_text() -> None:
    record_alert("retry")
    async with client_for({}, app=None) as http:
        answer = await http.get("/metrics")
        missing = await http.get("/mcp")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert 'jarvice_alerts_sent_total{outcome="retry"}' in answer.text
    assert "# HELP jarvice_api_requests_total" in answer.text
    assert missing.status_code == 404


async def test_an_app_with_its_own_health_routes_can_take_metrics_alone() -> None:
    ops = with_ops_routes(inner_app, checks={}, routes=["/metrics"])
    transport = httpx.ASGITransport(app=ops)
    async with httpx.AsyncClient(transport=transport, base_url="http://a.test") as http:
        health = await http.get("/health")
        scraped = await http.get("/metrics")
    assert health.text == "inner"
    assert "jarvice_api_requests_total" in scraped.text
    with pytest.raises(ValueError, match="/health, /ready, /metrics"):
        with_ops_routes(inner_app, checks={}, routes=["/admin"])
