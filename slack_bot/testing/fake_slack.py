"""A fake Slack Web API on loopback, for tests, benchmarks and demos.

    with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        ...
        slack.wait_for(lambda: slack.calls("chat.postMessage"))
        slack.fail("chat.postMessage", status=429, retry_after=1)
        slack.fail("chat.postMessage", error="not_in_channel", times=3)
        slack.fail("chat.postMessage", status=502, body="<html>Bad Gateway</html>")

It answers the Web API methods the Slack app and the alerts use (anything
else answers `unknown_method`, so an unplanned call fails loudly), takes
file uploads at the URLs it hands out, and serves response_urls
(`slack.response_url("name")`). Every request is recorded as a `Call`:
method, parsed body, the Authorization header. Failures are queued per
method: an HTTP status (429 with Retry-After, 5xx), an `ok: false` error
such as `not_in_channel`, or a body that is not JSON at all (a gateway's
error page, still labelled application/json).

Blocks are checked as Slack checks them (`slack_bot.testing.block_kit`): a
message Slack would refuse gets `invalid_blocks` (a response_url answers
400), a modal `invalid_arguments`, and the Call records the error and the
problems, so a rendering Slack would not show fails the test that sent it.
`responses()` lists only the messages Slack would have shown.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from slack_bot.testing.block_kit import message_problems, view_problems

__all__ = ["Call", "Failure", "FakeSlack"]

Handler = Callable[["FakeSlack", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    """The Web API method (e.g. chat.postMessage), `respond`, or `upload`."""
    path: str
    body: dict[str, Any]
    authorization: str
    at: float
    raw: bytes = b""
    status: int = 200
    error: str | None = None
    """The `ok: false` error the fake answered (e.g. invalid_blocks)."""
    problems: tuple[str, ...] = ()
    """Why the blocks were refused, when they were."""


@dataclass
class Failure:
    """How the next calls of one method fail."""

    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1
    body: str | None = None


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)


class FakeSlack:
    """A threaded fake of slack.com/api on 127.0.0.1 (port chosen freely)."""

    def __init__(
        self,
        *,
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        check_blocks: bool = True,
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.check_blocks = check_blocks
        self.handlers: dict[str, Handler] = dict(_DEFAULT_HANDLERS)
        self._state = _State()
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-slack",
            daemon=True,
        )

    # Life cycle.

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """The base URL for SLACK_API_URL / AsyncWebClient(base_url=...)."""
        return f"{self.url}/api/"

    def response_url(self, name: str = "cmd") -> str:
        """A response_url whose messages are recorded as method `respond`."""
        return f"{self.url}/respond/{name}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    # What happened.

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls, oldest first (all, or of one method)."""
        with self._changed:
            return [c for c in self._state.calls if method in (None, c.method)]

    def responses(self, name: str | None = None) -> list[dict[str, Any]]:
        """Bodies posted to response_urls (all, or to one name) that Slack
        would have shown (not those refused)."""
        wanted = None if name is None else f"/respond/{name}"
        return [
            c.body
            for c in self.calls("respond")
            if wanted in (None, c.path) and c.status == 200
        ]

    def refused(self) -> list[Call]:
        """Calls answered with an error for their blocks (invalid_blocks)."""
        return [c for c in self.calls() if c.problems]

    def clear(self) -> None:
        with self._changed:
            self._state.calls.clear()

    def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Block until `condition()` is truthy (checked at every call); its
        value, or AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"fake Slack: condition not met within {timeout} s; "
                        f"calls: {[c.method for c in self._state.calls]}"
                    )
                self._changed.wait(left)

    async def wait_async(
        self, condition: Callable[[], Any], within: float = 10.0
    ) -> Any:
        """`wait_for` for async tests: polls without blocking the loop."""
        import asyncio

        timeout = within
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"fake Slack: condition not met within {timeout} s; "
                    f"calls: {[c.method for c in self.calls()]}"
                )
            await asyncio.sleep(0.005)

    # Failures.

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        body: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail: with an HTTP status
        (429 sends Retry-After, default 1 s), with `ok: false` and `error`
        (e.g. not_in_channel, channel_not_found), or with `body` sent as it
        is instead of JSON (what a proxy in front of Slack may answer)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if status == 200 and error is None:
            raise ValueError("give an HTTP status or an error code")
        failure = Failure(status, error, retry_after, times, body)
        with self._changed:
            self._state.failures.setdefault(method, []).append(failure)

    def _take_failure(self, method: str) -> Failure | None:
        with self._changed:
            queue = self._state.failures.get(method) or []
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def _record(self, call: Call) -> None:
        with self._changed:
            self._state.calls.append(call)
            self._changed.notify_all()


# Default answers.


def _auth_test(fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "url": "https://fake.slack.test/",
        "team": "Fake",
        "team_id": fake.team_id,
        "user": "jarvice",
        "user_id": fake.bot_user_id,
        "bot_id": "BFAKE",
    }


def _post_message(fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
    ts = f"{int(time.time())}.{next(fake._ids):06d}"
    channel = body.get("channel", "")
    message = {k: v for k, v in body.items() if k in ("text", "blocks", "thread_ts")}
    return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, **message}}


def _ephemeral(fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "message_ts": f"{int(time.time())}.{next(fake._ids):06d}"}


def _update(fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}


def _view(fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
    view = body.get("view")
    if isinstance(view, str):
        view = json.loads(view)
    view_id = body.get("view_id") or fake.next_id("V")
    return {"ok": True, "view": {**(view or {}), "id": view_id, "hash": "h1"}}


def _open_im(fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
    users = str(body.get("users", "")).split(",")[0]
    return {"ok": True, "channel": {"id": f"D{users}"}}


def _upload_url(fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
    file_id = fake.next_id("F")
    return {
        "ok": True,
        "file_id": file_id,
        "upload_url": f"{fake.url}/upload/{file_id}",
    }


def _complete_upload(fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
    files = body.get("files", "[]")
    listed = json.loads(files) if isinstance(files, str) else files
    return {
        "ok": True,
        "files": [{"id": f["id"], "title": f.get("title")} for f in listed],
    }


def _ok(fake: FakeSlack, body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True}


_DEFAULT_HANDLERS: dict[str, Handler] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _ephemeral,
    "chat.update": _update,
    "chat.delete": _update,
    "views.open": _view,
    "views.update": _view,
    "views.push": _view,
    "conversations.open": _open_im,
    "files.getUploadURLExternal": _upload_url,
    "files.completeUploadExternal": _complete_upload,
    "reactions.add": _ok,
    "conversations.join": _ok,
}


# The HTTP side.


def _handler_class(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            body = _parse(raw, self.headers.get("Content-Type", ""), query)
            authorization = self.headers.get("Authorization", "")
            if path.startswith("/respond/"):
                self._answer(fake, "respond", path, body, raw, authorization)
            elif path.startswith("/upload/"):
                self._answer(
                    fake, "upload", path, {"size": len(raw)}, raw, authorization
                )
            elif path.startswith("/api/"):
                method = path.removeprefix("/api/")
                self._answer(fake, method, path, body, raw, authorization)
            else:
                self._send(404, {"ok": False, "error": "not_found"})

        do_GET = do_POST

        def _answer(
            self,
            fake: FakeSlack,
            method: str,
            path: str,
            body: dict[str, Any],
            raw: bytes,
            authorization: str,
        ) -> None:
            failure = fake._take_failure(method)
            status, payload, headers, problems = _outcome(fake, method, body, failure)
            error = None if payload.get("ok") else str(payload.get("error"))
            call = Call(method, path, body, authorization, time.time(), raw, status)
            fake._record(replace(call, error=error, problems=tuple(problems)))
            if method == "respond" and failure is None:
                self._send_text(status, "ok" if status == 200 else str(error))
                return
            if failure is not None and failure.body is not None:
                self._send_raw(status, failure.body.encode())
                return
            self._send(status, payload, headers)

        def _send(
            self,
            status: int,
            payload: dict[str, Any],
            headers: dict[str, str] | None = None,
        ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_raw(self, status: int, data: bytes) -> None:
            """A body that is not JSON, labelled as JSON all the same."""
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_text(self, status: int, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def _parse(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    body: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
    if not raw:
        return body
    if "json" in content_type:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            return body
        if isinstance(parsed, dict):
            body.update(parsed)
        return body
    if "x-www-form-urlencoded" in content_type:
        body.update(urllib.parse.parse_qsl(raw.decode(errors="replace")))
    return body


def _outcome(
    fake: FakeSlack, method: str, body: dict[str, Any], failure: Failure | None
) -> tuple[int, dict[str, Any], dict[str, str], list[str]]:
    """The HTTP status, JSON answer, headers and block problems of a call."""
    if failure is not None:
        payload = {"ok": False, "error": failure.error or _reason(failure.status)}
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        return failure.status, payload, headers, []
    problems = _problems(method, body) if fake.check_blocks else []
    if problems:
        status, payload = _refusal(method, problems)
        return status, payload, {}, problems
    if method in ("respond", "upload"):
        return 200, {"ok": True}, {}, []
    if method in fake.handlers:
        return 200, fake.handlers[method](fake, body), {}, []
    return 200, {"ok": False, "error": "unknown_method"}, {}, []


_MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "respond"}
)
_VIEW_METHODS = frozenset({"views.open", "views.update", "views.push"})


def _problems(method: str, body: dict[str, Any]) -> list[str]:
    """What Slack would refuse in the blocks of a message or a view."""
    if method in _MESSAGE_METHODS:
        return message_problems(_json(body.get("blocks")))
    if method in _VIEW_METHODS:
        return view_problems(_json(body.get("view")))
    return []


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _refusal(method: str, problems: list[str]) -> tuple[int, dict[str, Any]]:
    """Slack's answer to bad blocks: a response_url says 400 invalid_blocks,
    chat.* `invalid_blocks` with the errors, views.* `invalid_arguments`."""
    if method == "respond":
        return 400, {"ok": False, "error": "invalid_blocks"}
    if method in _VIEW_METHODS:
        messages = [f"[ERROR] {p}" for p in problems]
        return 200, {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {"messages": messages},
        }
    return 200, {"ok": False, "error": "invalid_blocks", "errors": problems}


def _reason(status: int) -> str:
    return {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}.get(
        status, "request_failed"
    )
