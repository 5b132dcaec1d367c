"""deploy/healthcheck.py, the image's HEALTHCHECK, against a real HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.deploy.support import DEPLOY, load_script

healthcheck = load_script(DEPLOY / "healthcheck.py")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/health" else 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_healthy_service_exits_zero(
    base_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEALTHCHECK_URL", f"{base_url}/health")
    assert healthcheck.main() == 0
    assert "answered 200" in capsys.readouterr().out


def test_unhealthy_answer_exits_one_naming_the_status(
    base_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEALTHCHECK_URL", f"{base_url}/ready")
    assert healthcheck.main() == 1
    assert "answered 503" in capsys.readouterr().out


def test_nothing_listening_exits_one() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as closed:
        port = closed.server_address[1]
    healthy, reason = healthcheck.check(f"http://127.0.0.1:{port}/health", 2.0)
    assert not healthy
    assert "did not answer" in reason


def test_default_url_is_the_port_the_image_exposes() -> None:
    assert healthcheck.DEFAULT_URL == "http://127.0.0.1:8000/health"
