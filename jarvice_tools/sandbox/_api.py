"""The endpoint registry and the one function that answers an API call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import _catalog, _jobapi, _reports, _submit
from ._call import Call
from ._reply import ApiError, Params, Reply, error_reply, json_reply, loads
from ._world import World

VERSION = "jarvice-tools-sandbox 0.1.0"
Auth = Literal["query", "optional", "body", "none"]


def live(call: Call) -> Reply:
    return json_reply({"status": "OK"})


def ready(call: Call) -> Reply:
    return json_reply({"status": "OK", "version": VERSION})


@dataclass(frozen=True)
class Endpoint:
    """How an endpoint is called.

    ``auth``: ``query`` needs username and apikey parameters; ``optional``
    checks them only if given; ``body`` reads them from the JSON body's
    ``user``; ``none`` takes no credentials. ``json_body`` endpoints are
    POST only and parse the body as JSON whatever its Content-Type.
    """

    handler: Callable[[Call], Reply]
    auth: Auth = "query"
    json_body: bool = False


ENDPOINTS: dict[str, Endpoint] = {
    "jobs": Endpoint(_jobapi.jobs),
    "teamjobs": Endpoint(_jobapi.teamjobs),
    "batch": Endpoint(_submit.batch, "body", json_body=True),
    "submit": Endpoint(_submit.submit, "body", json_body=True),
    "status": Endpoint(_jobapi.status),
    "metrics": Endpoint(_jobapi.metrics),
    "output": Endpoint(_jobapi.output),
    "screenshot": Endpoint(_jobapi.screenshot),
    "tail": Endpoint(_jobapi.tail),
    "connect": Endpoint(_jobapi.connect),
    "info": Endpoint(_jobapi.info),
    "signal": Endpoint(_jobapi.signal),
    "action": Endpoint(_jobapi.action),
    "shutdown": Endpoint(_jobapi.shutdown),
    "terminate": Endpoint(_jobapi.terminate),
    "apps": Endpoint(_catalog.apps, "optional"),
    "appdef": Endpoint(_catalog.appdef),
    "teamusers": Endpoint(_catalog.teamusers),
    "machines": Endpoint(_catalog.machines),
    "vault": Endpoint(_catalog.vault),
    "projects": Endpoint(_catalog.projects),
    "billing": Endpoint(_reports.billing),
    "audit": Endpoint(_reports.audit),
    "queues": Endpoint(_catalog.queues),
    "history": Endpoint(_reports.history),
    "pull": Endpoint(_reports.pull),
    "build": Endpoint(_reports.build),
    "validate": Endpoint(_submit.validate, "optional", json_body=True),
    "live": Endpoint(live, "none"),
    "ready": Endpoint(ready, "none"),
}


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or ApiError(400) saying why it is not."""
    try:
        return loads(raw)
    except ValueError as exc:  # also UnicodeDecodeError and JSONDecodeError
        message = f"{_submit.MALFORMED}: the body is not valid JSON ({exc})"
        raise ApiError(400, message) from exc


def answer(
    world: World, endpoint: str, method: str, params: Mapping[str, str], raw: bytes
) -> Reply:
    """Answer one call to ``/jarvice/<endpoint>``."""
    spec = ENDPOINTS.get(endpoint)
    if spec is None:
        return error_reply(404, "Not Found")
    if spec.json_body and method != "POST":
        return error_reply(405, f"Method Not Allowed: /jarvice/{endpoint} is POST only")
    try:
        body = parse_json(raw) if spec.json_body else None
        args = Params(params)
        with world.lock:
            account = None
            if spec.auth == "query" or (
                spec.auth == "optional" and (args.raw("username") or args.raw("apikey"))
            ):
                account = world.authenticate(args.raw("username"), args.raw("apikey"))
            return spec.handler(Call(world, account, args, body))
    except ApiError as exc:
        return error_reply(exc.status, exc.message)
