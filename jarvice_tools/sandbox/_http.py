"""The aiohttp application: /jarvice/* plus, when enabled, /_sandbox/*."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from ._api import ENDPOINTS, answer, parse_json
from ._control import add_control_routes
from ._faults import Fault, ReceivedRequest
from ._reply import JSON, ApiError, Reply, dumps, error_reply
from ._submit import redact

if TYPE_CHECKING:
    from ._server import SandboxServer

logger = logging.getLogger("jarvice_tools.sandbox")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BROKEN_JSON = b'{\n    "error": "this reply was cut sho'
UNREADABLE_FORM = "the form body is not valid UTF-8 form data"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def to_response(reply: Reply) -> web.Response:
    return web.Response(
        status=reply.status, body=reply.body, content_type=reply.content_type
    )


async def read_params(
    request: web.Request, json_body: bool
) -> tuple[dict[str, str], bytes]:
    """Query parameters merged with a form body (the body wins), and the
    raw body of a JSON-body endpoint; ApiError(400) for a form that cannot
    be read."""
    params = dict(request.query.items())
    if request.method != "POST" or not request.can_read_body:
        return params, b""
    if json_body:
        return params, await request.read()
    try:
        params.update(await _form(request))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, f"Invalid parameter(s): {UNREADABLE_FORM}") from exc
    return params, b""


async def _form(request: web.Request) -> dict[str, str]:
    """The text fields of a form body (none if the body is not a form)."""
    if request.content_type in FORM_TYPES:
        form = await request.post()  # reads the body itself: not read before
        return {k: v for k, v in form.items() if isinstance(v, str)}
    if request.content_type in ("", "application/octet-stream"):
        raw = await request.read()
        text = raw.decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True, errors="strict"))
    return {}


def _redacted_body(endpoint: str, raw: bytes) -> Any:
    if not ENDPOINTS.get(endpoint, ENDPOINTS["jobs"]).json_body:
        return None
    try:
        body = parse_json(raw)
    except ApiError:
        return None
    return redact(body) if isinstance(body, dict) else copy.deepcopy(body)


def _username(params: dict[str, str], body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("user"), dict):
        name = body["user"].get("username")
        return name if isinstance(name, str) else None
    return params.get("username") or None


def fault_response(request: web.Request, fault: Fault) -> web.Response:
    if fault.drop:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)
    if fault.malformed:
        return web.Response(status=200, body=BROKEN_JSON, content_type=JSON)
    status = fault.status or 500
    if fault.body is None:
        return to_response(error_reply(status, _reason(status)))
    kind = JSON if fault.body.lstrip().startswith(("{", "[")) else "text/plain"
    return web.Response(status=status, body=fault.body.encode(), content_type=kind)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _received(
    server: SandboxServer,
    request: web.Request,
    endpoint: str,
    params: dict[str, str],
    raw: bytes,
) -> ReceivedRequest:
    """The request as the log keeps it (recorded), without any apikey."""
    body = _redacted_body(endpoint, raw)
    record = ReceivedRequest(
        endpoint=endpoint,
        method=request.method,
        params={k: v for k, v in params.items() if k != "apikey"},
        username=_username(params, body),
        body=body,
        content_type=request.headers.get("Content-Type"),
        time=server._clock.now(),
    )
    server._control.record(record)
    return record


async def _parameters(
    request: web.Request, json_body: bool
) -> tuple[dict[str, str], bytes, Reply | None]:
    """Parameters and raw body, or the query alone and a refusal."""
    try:
        params, raw = await read_params(request, json_body)
    except ApiError as exc:
        return dict(request.query.items()), b"", error_reply(exc.status, exc.message)
    return params, raw, None


def api_handler(server: SandboxServer) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        endpoint = request.match_info["endpoint"]
        spec = ENDPOINTS.get(endpoint)
        json_body = spec is not None and spec.json_body
        params, raw, refusal = await _parameters(request, json_body)
        record = _received(server, request, endpoint, params, raw)
        fault = server._control.take_fault(endpoint)
        delay = server.latency + (fault.delay if fault else 0.0)
        if delay:
            await asyncio.sleep(delay)
        if fault is not None and fault.replaces_reply and not fault.after:
            response = fault_response(request, fault)
        else:
            reply = refusal or answer(
                server._world, endpoint, request.method, params, raw
            )
            response = to_response(reply)
            if fault is not None and fault.replaces_reply:
                response = fault_response(request, fault)
        logger.info(
            "%s /jarvice/%s user=%s -> %s%s (%.1f ms)",
            request.method,
            endpoint,
            record.username or "-",
            "dropped" if fault is not None and fault.drop else response.status,
            " [fault]" if fault is not None else "",
            (time.perf_counter() - started) * 1000,
        )
        return response

    return handle


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unexpected failures become a JSON 500 rather than aiohttp's page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400:
            return web.Response(
                status=exc.status, body=dumps({"error": exc.reason}), content_type=JSON
            )
        raise
    except Exception:
        logger.exception("internal error answering %s", request.path)
        return to_response(error_reply(500, "Internal Server Error"))


def build_app(server: SandboxServer) -> web.Application:
    app = web.Application(middlewares=[errors])
    handler = api_handler(server)
    for prefix in ("/jarvice", "/api/jarvice"):
        app.router.add_route("GET", prefix + "/{endpoint}", handler)
        app.router.add_route("POST", prefix + "/{endpoint}", handler)
    if server.control:
        add_control_routes(app, server)
    return app
