"""`/health`, `/ready` and `/metrics` for any ASGI app, in one wrapper.

    app = with_ops_routes(app, checks={"jarvice": jarvice_check(client),
                                       "database": store_ping})
    uvicorn.run(app, ...)

- `GET /health`: 200 while the process serves requests; it checks nothing
  else, so an orchestrator restarts a pod only when the process is stuck.
- `GET /ready`: runs every check at once (each bounded by `timeout`
  seconds) and answers 200 when all pass, 503 otherwise, with a JSON body
  naming each check's result, never an error text or a secret.
- `GET /metrics`: Prometheus text exposition (`jarvice_tools.metrics`).

Every other request goes to the wrapped app. With `app=None` the wrapper
is a small server of its own (Socket Mode has no HTTP app to wrap).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from jarvice_tools import metrics
from jarvice_tools.client import JarviceClient

__all__ = [
    "ASGIApp",
    "ReadyCheck",
    "Receive",
    "Scope",
    "Send",
    "jarvice_check",
    "with_ops_routes",
]

logger = logging.getLogger("jarvice_tools.health")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ReadyCheck = Callable[[], Awaitable[bool]]

ROUTES = ("/health", "/ready", "/metrics")


def jarvice_check(client: JarviceClient) -> ReadyCheck:
    """A readiness check that JARVICE answers its own readiness probe."""
    return client.ready


def with_ops_routes(
    app: ASGIApp | None,
    *,
    checks: Mapping[str, ReadyCheck],
    timeout: float = 3.0,
    routes: Iterable[str] = ROUTES,
) -> ASGIApp:
    """`app` with the operations routes in front of it: all three, or the
    ones in `routes` (an app with its own `/health` and `/ready` passes
    `routes=["/metrics"]`)."""
    served = frozenset(routes)
    if not served <= set(ROUTES):
        raise ValueError(f"routes must be among {', '.join(ROUTES)}")

    async def ops(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in served:
            if scope["method"] not in ("GET", "HEAD"):
                await _answer(send, 405, b"use GET\n", "text/plain")
                return
            await _route(scope["path"], send, checks, timeout)
            return
        if app is not None:
            await app(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)
        else:
            await _answer(send, 404, b"not found\n", "text/plain")

    return ops


async def _route(
    path: str, send: Send, checks: Mapping[str, ReadyCheck], limit: float
) -> None:
    if path == "/metrics":
        await _answer(send, 200, metrics.render(), metrics.CONTENT_TYPE)
        return
    if path == "/health":
        await _answer(send, 200, b'{"status": "ok"}', "application/json")
        return
    names = list(checks)
    results = await asyncio.gather(*(_run(n, checks[n], limit) for n in names))
    outcome = dict(zip(names, results, strict=True))
    ready = all(results)
    body = json.dumps({"ready": ready, "checks": outcome}).encode()
    await _answer(send, 200 if ready else 503, body, "application/json")


async def _run(name: str, check: ReadyCheck, limit: float) -> bool:
    try:
        async with asyncio.timeout(limit):
            return bool(await check())
    except TimeoutError:
        logger.warning("readiness check %s took over %.1f s", name, limit)
    except Exception as error:  # a failing check means "not ready", not a 500
        logger.warning("readiness check %s failed: %s", name, type(error).__name__)
    return False


async def _answer(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
