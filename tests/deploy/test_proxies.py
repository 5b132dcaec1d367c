"""An on-premises JARVICE behind a proxy: the metered transport both
services use sends JARVICE requests through HTTP(S)_PROXY unless NO_PROXY
names the host, as httpx does for a client without a transport of its own.
A recording forward proxy on loopback stands between the client and the
sandbox."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jarvice_tools import Caller, Credentials, JarviceClient
from jarvice_tools.metrics import MeteredTransport
from jarvice_tools.sandbox import SandboxServer
from tests.deploy.support import free_port

pytestmark = pytest.mark.anyio

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class ForwardProxy:
    """A plain HTTP forward proxy that records the URLs it is asked for."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.seen.append(self.path)  # absolute-form: http://host/...
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                request = urllib.request.Request(
                    self.path, data=body, method=self.command
                )
                with direct.open(request, timeout=10) as answer:
                    data = answer.read()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.headers["Content-Type"])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    with ForwardProxy() as running:
        yield running


def caller_of(sandbox: SandboxServer) -> Caller:
    account = sandbox.account("alice")
    return Caller(
        credentials=Credentials(username=account.username, apikey=account.apikey)
    )


async def jobs_through(sandbox: SandboxServer) -> None:
    async with JarviceClient(
        sandbox.url, caller=caller_of(sandbox), transport=MeteredTransport()
    ) as client:
        await client.jobs()


async def test_jarvice_requests_go_through_the_proxy_the_environment_names(
    proxy: ForwardProxy, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)

    await jobs_through(sandbox)

    assert [url.split("?")[0] for url in proxy.seen] == [f"{sandbox.url}/jarvice/jobs"]


async def test_no_proxy_sends_jarvice_requests_directly(
    proxy: ForwardProxy, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    await jobs_through(sandbox)

    assert proxy.seen == []
    assert [r.endpoint for r in sandbox.requests] == ["jobs"]
