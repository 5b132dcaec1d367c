"""Interactive jobs: connect, info, screenshot, action."""

from __future__ import annotations

import struct

import pytest

from jarvice_tools.sandbox import SandboxServer

from .helpers import (
    creds,
    error_of,
    get,
    http,
    job_numbers,
    post_json,
    submit_app,
    submit_batch,
)


def start_desktop(server: SandboxServer, geometry: str | None = None) -> int:
    """A desktop job, running and ready to connect."""
    application = {"command": "Desktop", **({"geometry": geometry} if geometry else {})}
    body = {
        "app": "jarvice-desktop",
        "application": application,
        "machine": {"type": "n1"},
        "user": creds(server),
    }
    response = post_json(server, "submit", body)
    assert response.status_code == 200, response.text
    number: int = response.json()["number"]
    server.advance(5 + 5)
    return number


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_interactive_jobs_run_until_stopped(sandbox: SandboxServer) -> None:
    number = start_desktop(sandbox)
    sandbox.advance(24 * 3600)

    assert sandbox.job(number).status == "PROCESSING STARTING"
    assert "Desktop ready" in get(sandbox, "tail", number=number).text


def test_connect_waits_for_the_app_then_gives_address_and_password(
    sandbox: SandboxServer,
) -> None:
    response = submit_app(sandbox, "jarvice-desktop", "Desktop")
    number = response.json()["number"]
    sandbox.advance(6)
    early = get(sandbox, "connect", number=number)
    sandbox.advance(5)
    ready = get(sandbox, "connect", number=number)

    assert early.status_code == 404
    assert set(ready.json()) == {"address", "password"}
    assert ready.json()["address"].startswith("192.0.2.")


def test_connect_refuses_a_batch_job(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "sleep 30")
    sandbox.advance(10)

    response = get(sandbox, "connect", number=number)

    assert response.status_code == 400
    assert "interactive" in error_of(response)


def test_info_gives_url_about_help_and_actions(sandbox: SandboxServer) -> None:
    number = start_desktop(sandbox)
    connect = get(sandbox, "connect", number=number).json()

    info = get(sandbox, "info", number=number).json()

    assert (
        info["url"]
        == f"https://{connect['address']}/vnc.html?password={connect['password']}"
    )
    assert info["about"].startswith("<h1>")
    assert info["help"]
    assert info["actions"]["restart-desktop"] == {"alt": "Restart the desktop session"}


def test_info_of_a_batch_job_has_null_values(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "sleep 30")
    sandbox.advance(11)

    info = get(sandbox, "info", number=number).json()

    assert info["url"] is None
    assert info["actions"] is None


def test_action_runs_a_known_action(sandbox: SandboxServer) -> None:
    number = start_desktop(sandbox)

    response = get(sandbox, "action", number=number, action="clear-cache")
    unknown = get(sandbox, "action", number=number, action="format-disk")
    missing = get(sandbox, "action", number=number)

    assert response.json() == {"status": "action requested"}
    assert "Action 'clear-cache' requested" in get(sandbox, "tail", number=number).text
    assert unknown.status_code == 400
    assert missing.status_code == 400


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({}, (1280, 800)),
        ({"width": "640"}, (640, 400)),
        ({"height": "200"}, (320, 200)),
        ({"width": "640", "height": "100"}, (160, 100)),
        ({"width": "640", "height": "100", "emphatic": "true"}, (640, 100)),
        ({"width": "300", "emphatic": "1"}, (300, 800)),
    ],
)
def test_screenshot_is_a_png_of_the_requested_size(
    sandbox: SandboxServer, params: dict[str, str], size: tuple[int, int]
) -> None:
    number = start_desktop(sandbox)

    response = get(sandbox, "screenshot", number=number, **params)

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert png_size(response.content) == size


@pytest.mark.parametrize("query", ["emphatic", "emphatic=", "emphatic=yes"])
def test_a_bare_emphatic_is_specified(sandbox: SandboxServer, query: str) -> None:
    number = start_desktop(sandbox)
    params = f"{creds_query(sandbox)}&number={number}&width=300&{query}"

    response = http.get(f"{sandbox.url}/jarvice/screenshot?{params}")

    assert png_size(response.content) == (300, 800)


@pytest.mark.parametrize("query", ["emphatic=false", "emphatic=0", ""])
def test_emphatic_false_keeps_the_aspect_ratio(
    sandbox: SandboxServer, query: str
) -> None:
    number = start_desktop(sandbox)
    params = f"{creds_query(sandbox)}&number={number}&width=320&{query}"

    response = http.get(f"{sandbox.url}/jarvice/screenshot?{params}")

    assert png_size(response.content) == (320, 200)


def creds_query(server: SandboxServer) -> str:
    return "&".join(f"{k}={v}" for k, v in creds(server).items())


def test_screenshot_uses_the_submitted_geometry(sandbox: SandboxServer) -> None:
    number = start_desktop(sandbox, geometry="1904x841")

    response = get(sandbox, "screenshot", number=number)

    assert png_size(response.content) == (1904, 841)


@pytest.mark.parametrize(
    "geometry", ["00x00", "0x100", "100x0", "4097x100", "9999x9999", "12", 1904, []]
)
def test_a_geometry_side_must_be_1_to_4096_pixels(
    sandbox: SandboxServer, geometry: object
) -> None:
    before = job_numbers(sandbox)
    body = {
        "app": "jarvice-desktop",
        "application": {"command": "Desktop", "geometry": geometry},
        "machine": {"type": "n1"},
        "user": creds(sandbox),
    }

    response = post_json(sandbox, "submit", body)

    assert response.status_code == 400
    assert "application.geometry" in error_of(response)
    assert job_numbers(sandbox) == before


@pytest.mark.parametrize(
    ("geometry", "params", "size"),
    [
        ("1x1", {"width": "100"}, (100, 100)),
        ("100x1000", {"width": "1000"}, (410, 4096)),
        ("10x4096", {"width": "4096"}, (10, 4096)),
        ("4096x1", {"height": "2"}, (4096, 1)),
    ],
)
def test_a_screenshot_side_is_never_beyond_4096_pixels(
    sandbox: SandboxServer, geometry: str, params: dict[str, str], size: tuple[int, int]
) -> None:
    number = start_desktop(sandbox, geometry=geometry)

    response = get(sandbox, "screenshot", number=number, **params)

    assert response.status_code == 200
    assert png_size(response.content) == size


def test_screenshot_of_a_non_graphical_job_is_invalid(sandbox: SandboxServer) -> None:
    number = submit_batch(sandbox, "sleep 30")
    sandbox.advance(11)

    response = get(sandbox, "screenshot", number=number)

    assert response.status_code == 501
    assert error_of(response) == "Invalid image"


@pytest.mark.parametrize(
    "params", [{"width": "0"}, {"height": "x"}, {"width": "99999"}]
)
def test_screenshot_size_must_be_sensible(
    sandbox: SandboxServer, params: dict[str, str]
) -> None:
    number = start_desktop(sandbox)

    assert get(sandbox, "screenshot", number=number, **params).status_code == 400


def test_seeded_bob_desktop_is_running(sandbox: SandboxServer) -> None:
    jobs = sandbox.jobs_of("bob")
    desktop = next(j for j in jobs if j.application == "jarvice-desktop")

    response = get(sandbox, "screenshot", "bob", number=desktop.number, width=100)

    assert desktop.status == "PROCESSING STARTING"
    assert response.status_code == 200


def test_a_notebook_connects_but_has_no_screenshot(sandbox: SandboxServer) -> None:
    response = submit_app(sandbox, "jarvice-jupyter", "Notebook", {"lab": True})
    number = response.json()["number"]
    sandbox.advance(11)

    connect = get(sandbox, "connect", number=number)
    url = get(sandbox, "info", number=number).json()["url"]

    assert connect.status_code == 200
    assert url.endswith("/lab?token=" + connect.json()["password"])
    assert get(sandbox, "screenshot", number=number).status_code == 501
