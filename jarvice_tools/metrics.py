"""Prometheus metrics shared by the MCP server and the Slack app.

What is measured, and the one-line hook that feeds each:

- `jarvice_api_requests_total{action, status}` and
  `jarvice_api_request_seconds{action}`: every HTTP request to JARVICE
  (retries count once each), with the HTTP status or `timeout` / `error`
  when no answer came. Hook: build the client with
  `JarviceClient(..., transport=MeteredTransport())`.
- `jarvice_alerts_sent_total{outcome}`: job alerts handed to Slack
  (`sent`, `retry` when Slack asked to try later, `failed` when given up).
  Hook: `record_alert("sent")`.
- `jarvice_alert_outbox_depth`: alerts waiting in the outbox. Hook:
  `set_outbox_depth(n)` after each delivery pass.
- `jarvice_poll_seconds`: how long one watcher poll cycle took. Hook:
  `with time_poll(): ...` around the cycle.

`render()` gives the text exposition for `/metrics` (see
`jarvice_tools.health`). Metrics live in prometheus_client's default
registry, so process metrics (CPU, memory, open files) come along. Labels
never carry a user, a job number or anything secret.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from jarvice_tools.actions import ACTIONS
from jarvice_tools.proxies import EnvironmentProxies

__all__ = [
    "ALERTS_SENT",
    "API_REQUESTS",
    "API_SECONDS",
    "CONTENT_TYPE",
    "OUTBOX_DEPTH",
    "POLL_SECONDS",
    "MeteredTransport",
    "record_alert",
    "render",
    "set_outbox_depth",
    "time_poll",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST
ALERT_OUTCOMES = ("sent", "retry", "failed")

API_REQUESTS = Counter(
    "jarvice_api_requests",
    "HTTP requests sent to JARVICE, by action and outcome "
    "(HTTP status, or timeout / error when no answer came).",
    ["action", "status"],
)
API_SECONDS = Histogram(
    "jarvice_api_request_seconds",
    "Time from sending a JARVICE request to its answer's headers.",
    ["action"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
ALERTS_SENT = Counter(
    "jarvice_alerts_sent",
    "Job alerts handed to Slack, by outcome (sent, retry, failed).",
    ["outcome"],
)
OUTBOX_DEPTH = Gauge(
    "jarvice_alert_outbox_depth",
    "Alerts waiting in the outbox to be delivered to Slack.",
)
POLL_SECONDS = Histogram(
    "jarvice_poll_seconds",
    "Duration of one poll cycle of the job watcher.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)

_ENDPOINTS = frozenset(
    {action.path.rsplit("/", 1)[-1] for action in ACTIONS.values()} | {"live", "ready"}
)


def endpoint_of(url: httpx.URL) -> str:
    """The label for a JARVICE URL: its endpoint name, or `other`."""
    name = url.path.rstrip("/").rsplit("/", 1)[-1]
    return name if name in _ENDPOINTS else "other"


class MeteredTransport(httpx.AsyncBaseTransport):
    """An httpx transport that counts and times each request to JARVICE.

    Wraps `inner` (by default `EnvironmentProxies`: directly, or through
    the proxy HTTPS_PROXY / HTTP_PROXY name unless NO_PROXY exempts the
    host); the request and its answer pass through untouched.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or EnvironmentProxies()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        action = endpoint_of(request.url)
        started = time.perf_counter()
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TimeoutException:
            API_REQUESTS.labels(action, "timeout").inc()
            raise
        except httpx.TransportError:
            API_REQUESTS.labels(action, "error").inc()
            raise
        API_SECONDS.labels(action).observe(time.perf_counter() - started)
        API_REQUESTS.labels(action, str(response.status_code)).inc()
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def record_alert(outcome: str) -> None:
    """Count one alert delivery attempt: `sent`, `retry` or `failed`."""
    if outcome not in ALERT_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(ALERT_OUTCOMES)}")
    ALERTS_SENT.labels(outcome).inc()


def set_outbox_depth(depth: int) -> None:
    """Record how many alerts wait in the outbox."""
    OUTBOX_DEPTH.set(depth)


@contextmanager
def time_poll() -> Iterator[None]:
    """Time one watcher poll cycle (also when it fails)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        POLL_SECONDS.observe(time.perf_counter() - started)


def render() -> bytes:
    """The Prometheus text exposition of every metric in the registry."""
    return generate_latest(REGISTRY)
