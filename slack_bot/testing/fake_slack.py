"""A fake Slack Web API on loopback, for tests, benchmarks and demos.

    with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        ...
        slack.wait_for(lambda: slack.calls("chat.postMessage"))
        slack.fail("chat.postMessage", status=429, retry_after=1)
        slack.fail("chat.postMessage", error="not_in_channel", times=3)

It answers the Web API methods the Slack app and the alerts use (anything
else answers `unknown_method`, so an unplanned call fails loudly), takes
file uploads at the URLs it hands out, and serves response_urls
(`slack.response_url("name")`). Every request is recorded as a `Call`:
method, parsed body, the Authorization header. Failures are queued per
method: an HTTP status (429 with Retry-After, 5xx) or an `ok: false` error
such as `not_in_channel`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

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


@dataclass
class Failure:
    """How the next calls of one method fail."""

    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)


class FakeSlack:
    """A threaded fake of slack.com/api on 127.0.0.1 (port chosen freely)."""

    def __init__(self, *, team_id: str = "T0001", bot_user_id: str = "UBOT") -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
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
        """Bodies posted to response_urls (all, or to one name)."""
        wanted = None if name is None else f"/respond/{name}"
        return [c.body for c in self.calls("respond") if wanted in (None, c.path)]

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
    ) -> None:
        """Make the next `times` calls of `method` fail: with an HTTP status
        (429 sends Retry-After, default 1 s), or with `ok: false` and
        `error` (e.g. not_in_channel, channel_not_found)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if status == 200 and error is None:
            raise ValueError("give an HTTP status or an error code")
        failure = Failure(status, error, retry_after, times)
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
            status = 200
            payload: dict[str, Any] = {"ok": True}
            headers: dict[str, str] = {}
            if failure is not None:
                status = failure.status
                payload = {"ok": False, "error": failure.error or _reason(status)}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
            elif method in ("respond", "upload"):
                payload = {"ok": True}
            elif method in fake.handlers:
                payload = fake.handlers[method](fake, body)
            else:
                payload = {"ok": False, "error": "unknown_method"}
            fake._record(
                Call(method, path, body, authorization, time.time(), raw, status)
            )
            if method == "respond" and failure is None:
                self._send_text(200, "ok")
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


def _reason(status: int) -> str:
    return {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}.get(
        status, "request_failed"
    )
