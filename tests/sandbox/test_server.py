"""Starting and stopping the sandbox: thread, event loop, CLI, TLS."""

from __future__ import annotations

import datetime
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from jarvice_tools.sandbox import Account, SandboxServer
from jarvice_tools.sandbox.__main__ import main

SEEDED = {
    "alice": ("user", "acme"),
    "bob": ("user", "acme"),
    "carol": ("team_admin", "acme"),
    "dave": ("user", "globex"),
    "admin": ("system_admin", "ops"),
}


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_start_serves_from_a_thread_and_stop_releases_the_port() -> None:
    server = SandboxServer()
    server.start()
    port = server.port
    try:
        assert server.url == f"http://127.0.0.1:{port}"
        assert httpx.get(server.url + "/jarvice/live").json() == {"status": "OK"}
        assert not port_is_free(port)
    finally:
        server.stop()

    assert port_is_free(port)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/jarvice/live")


def test_stop_twice_and_url_before_start() -> None:
    server = SandboxServer()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url
    server.start()
    with pytest.raises(RuntimeError, match="already started"):
        server.start()
    server.stop()
    server.stop()


def test_a_busy_port_fails_start() -> None:
    with SandboxServer() as first, pytest.raises(OSError, match="in use"):
        SandboxServer(port=first.port).start()


def test_the_context_manager_starts_and_stops() -> None:
    with SandboxServer(clock="manual") as server:
        port = server.port
        assert httpx.get(server.url + "/jarvice/ready").status_code == 200
    assert port_is_free(port)


@pytest.mark.anyio
async def test_async_with_serves_from_the_running_loop() -> None:
    async with SandboxServer(clock="manual", control=True) as server:
        async with httpx.AsyncClient() as client:
            live = await client.get(server.url + "/jarvice/live")
            server.advance(5)
            control = await client.get(server.url + "/_sandbox/clock")
        port = server.port
    assert live.json() == {"status": "OK"}
    assert control.status_code == 200
    assert port_is_free(port)


def test_a_real_clock_follows_wall_time() -> None:
    with SandboxServer() as server:
        assert abs(server.now() - time.time()) < 5
        before = server.now()
        server.advance(3600)
        assert server.now() - before >= 3600


def test_accounts_are_the_seeded_ones() -> None:
    server = SandboxServer()

    accounts = server.accounts

    assert {a.username: (a.role, a.team) for a in accounts} == SEEDED
    assert all(len(a.apikey) == 40 and int(a.apikey, 16) >= 0 for a in accounts)
    assert server.account("carol").vault == "carol-home"
    assert "apikey" not in repr(server.account("alice"))
    with pytest.raises(KeyError):
        server.account("mallory")
    assert isinstance(accounts[0], Account)


def test_an_epoch_pins_the_manual_clock() -> None:
    with SandboxServer(clock="manual", epoch=1_700_000_000) as server:
        assert server.now() == 1_700_000_000


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="clock"):
        SandboxServer(clock="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="latency"):
        SandboxServer(latency=-1)
    with pytest.raises(ValueError, match="latency"):
        SandboxServer(latency=float("nan"))
    with pytest.raises(ValueError, match="port"):
        SandboxServer(port=70000)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_an_ssl_context_serves_https(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)

    with SandboxServer(ssl_context=context) as server:
        verify = ssl.create_default_context(cafile=str(cert_file))
        response = httpx.get(server.url + "/jarvice/live", verify=verify)
        assert server.url.startswith("https://")

    assert response.json() == {"status": "OK"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "jarvice_tools.sandbox", *args]


def test_cli_accounts_prints_the_seeded_accounts() -> None:
    done = subprocess.run(
        _cli("--accounts"), capture_output=True, text=True, check=True
    )

    accounts = json.loads(done.stdout)
    assert {a["username"]: (a["role"], a["team"]) for a in accounts} == SEEDED
    assert set(accounts[0]) == {"username", "apikey", "role", "team", "vault"}
    assert accounts[0]["apikey"] == SandboxServer().account("alice").apikey


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_cli_serves_until_interrupted_or_terminated(stop: signal.Signals) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        _cli("--port", "0", "--control"), stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        url = line.split("listening on ")[1].split()[0]
        assert "--accounts" in line
        assert httpx.get(url + "/jarvice/live").json() == {"status": "OK"}
        assert httpx.get(url + "/_sandbox/clock").json()["mode"] == "real"
        process.send_signal(stop)
        # generous: under a loaded CI machine interpreter shutdown alone can take
        # seconds; the point is that it stops, and with exit code 0
        assert process.wait(timeout=60) == 0
        assert "stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_cli_reports_a_busy_port() -> None:
    with SandboxServer() as server:
        done = subprocess.run(
            _cli("--port", str(server.port)), capture_output=True, text=True
        )

    assert done.returncode == 1
    assert "could not listen" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--latency", "-1"),
        ("--latency", "nan"),
        ("--latency", "inf"),
        ("--latency", "soon"),
        ("--port", "70000"),
        ("--port", "-1"),
        ("--port", "http"),
    ],
)
def test_cli_refuses_a_bad_port_or_latency(
    capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([option, value])

    assert exited.value.code == 2
    assert f"argument {option}: '{value}' is not a" in capsys.readouterr().err
