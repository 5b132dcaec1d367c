"""The test-control surface under /_sandbox/ (only with control=True).

Not part of JARVICE: the prefix keeps it apart, and without ``control``
these paths do not exist (404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._faults import Fault, fault_body
from ._reply import JSON, dumps, loads

if TYPE_CHECKING:
    from ._server import SandboxServer


def _reply(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=dumps(value), content_type=JSON)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        value = loads(raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(reason=f"body must be JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise web.HTTPBadRequest(reason="body must be a JSON object")
    return value


def add_control_routes(app: web.Application, server: SandboxServer) -> None:
    async def advance(request: web.Request) -> web.Response:
        body = await _body(request)
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            return _reply({"error": "give seconds as a number"}, 400)
        try:
            server.advance(float(seconds))
        except (ValueError, OverflowError) as exc:  # float(10**400) overflows
            return _reply({"error": str(exc)}, 400)
        return _reply({"now": server.now()})

    async def clock(request: web.Request) -> web.Response:
        return _reply({"now": server.now(), "mode": server.clock_mode})

    async def set_status(request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            number = int(request.match_info["number"])
            substatus, when = body.get("substatus"), body.get("when", "now")
            server.set_status(number, str(body.get("status")), substatus, when=when)
        except KeyError:
            return _reply({"error": "no such job"}, 404)
        except (ValueError, TypeError) as exc:
            return _reply({"error": str(exc)}, 400)
        return _reply(server._job_json(number))

    async def job(request: web.Request) -> web.Response:
        try:
            return _reply(server._job_json(int(request.match_info["number"])))
        except (KeyError, ValueError):
            return _reply({"error": "no such job"}, 404)

    async def add_fault(request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            fault = Fault(**{**body, "body": fault_body(body.get("body"))})
        except (TypeError, ValueError) as exc:
            return _reply({"error": f"bad fault: {exc}"}, 400)
        server._control.add_fault(fault)
        return _reply({"faults": [f.as_json() for f in server._control.faults]})

    async def list_faults(request: web.Request) -> web.Response:
        return _reply({"faults": [f.as_json() for f in server._control.faults]})

    async def clear_faults(request: web.Request) -> web.Response:
        server.clear_faults()
        return _reply({"faults": []})

    async def requests(request: web.Request) -> web.Response:
        return _reply([r.as_json() for r in server.requests])

    async def clear_requests(request: web.Request) -> web.Response:
        server.clear_requests()
        return _reply([])

    async def reset(request: web.Request) -> web.Response:
        server.reset()
        return _reply({"now": server.now()})

    async def accounts(request: web.Request) -> web.Response:
        return _reply(server.accounts_json())

    routes = [
        web.post("/_sandbox/clock/advance", advance),
        web.get("/_sandbox/clock", clock),
        web.post("/_sandbox/jobs/{number}/status", set_status),
        web.get("/_sandbox/jobs/{number}", job),
        web.post("/_sandbox/faults", add_fault),
        web.get("/_sandbox/faults", list_faults),
        web.delete("/_sandbox/faults", clear_faults),
        web.get("/_sandbox/requests", requests),
        web.delete("/_sandbox/requests", clear_requests),
        web.post("/_sandbox/reset", reset),
        web.get("/_sandbox/accounts", accounts),
    ]
    app.router.add_routes(routes)
