"""The Slack app manifests agree with the code in slack_bot/: the slash
command is the one the code answers, and the bot scopes are exactly those
the Web API methods it calls need (no more, no fewer)."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from slack_bot import messages
from tests.deploy.support import DEPLOY, DOCS, ROOT, load_yaml

SOCKET = load_yaml(DEPLOY / "slack" / "manifest.yaml")
HTTP = load_yaml(DEPLOY / "slack" / "manifest-http.yaml")

# Web API method -> the bot scopes it needs (Slack's method reference). A
# method the code calls that is missing here fails the test: look up its
# scopes, add them here and to both manifests. Reading a conversation needs
# one scope per kind of conversation the bot works in: public and private
# channels it is invited to, and the direct messages it opens.
HISTORY = frozenset({"channels:history", "groups:history", "im:history"})
METHOD_SCOPES: dict[str, frozenset[str]] = {
    # Socket Mode: called with the app-level token, whose connections:write
    # scope is granted on the token itself, not in the manifest.
    "apps.connections.open": frozenset(),
    "auth.test": frozenset(),
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "conversations.open": frozenset({"im:write"}),
    "conversations.history": HISTORY,
    "conversations.replies": HISTORY,
    "files.upload_v2": frozenset({"files:write"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "users.info": frozenset({"users:read"}),
    "views.open": frozenset(),
    "views.update": frozenset(),
    "views.push": frozenset(),
    "views.publish": frozenset(),
}
# Bolt's `say` posts with chat.postMessage; `respond` uses the response_url
# Slack hands out with each request and needs no scope.
HELPER_METHODS = {"say": "chat.postMessage"}
SLASH_COMMAND_SCOPE = "commands"


def web_client_methods() -> dict[str, str]:
    """Python method name -> Web API method name, from slack_sdk itself
    (`chat_postMessage` -> `chat.postMessage`)."""
    found = {}
    for name in dir(AsyncWebClient):
        if name.startswith("_") or "_" not in name or name == "api_call":
            continue
        found[name] = name.replace("_", ".").replace(".v2", "_v2")
    return found


def methods_called(package: Path) -> dict[str, set[str]]:
    """Web API methods the package calls -> files that call them (the
    package's `testing` helpers, a fake Slack, left out)."""
    known = web_client_methods()
    api_names = set(known.values())
    calls: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        if "testing" in path.relative_to(package).parts:
            continue  # the fake Slack Web API for tests answers every method
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else None
            if isinstance(func, ast.Name):
                name = func.id
            method = None
            if name in HELPER_METHODS:
                method = HELPER_METHODS[name]
            elif name == "api_call" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    method = first.value
            elif isinstance(func, ast.Attribute) and name in known:
                method = known[name]
            if method:
                calls.setdefault(method, set()).add(
                    path.relative_to(package.parent).as_posix()
                )
        # Methods queued by name (an outbox row holding "chat.postMessage")
        # and sent later with api_call(row.method, ...).
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in api_names
            ):
                calls.setdefault(node.value, set()).add(
                    path.relative_to(package.parent).as_posix()
                )
    return calls


CALLED = methods_called(ROOT / "slack_bot")


def bot_scopes(manifest: dict[str, Any]) -> list[str]:
    scopes: list[str] = manifest["oauth_config"]["scopes"]["bot"]
    return scopes


def test_the_code_calls_the_web_api_at_all() -> None:
    assert CALLED, "no Web API call found in slack_bot/: is the scan broken?"


@pytest.mark.parametrize("method", sorted(CALLED))
def test_every_method_called_has_a_known_scope(method: str) -> None:
    assert method in METHOD_SCOPES, (
        f"{method} (called in {sorted(CALLED[method])}) is not in METHOD_SCOPES"
    )


@pytest.mark.parametrize("manifest", [SOCKET, HTTP], ids=["socket", "http"])
def test_bot_scopes_are_exactly_what_the_code_needs(manifest: dict[str, Any]) -> None:
    needed = {SLASH_COMMAND_SCOPE}
    for method in CALLED:
        needed |= METHOD_SCOPES.get(method, frozenset())
    scopes = bot_scopes(manifest)
    assert len(scopes) == len(set(scopes))
    unused = set(scopes) - needed
    missing = needed - set(scopes)
    assert not unused, f"requested but never used: {sorted(unused)}"
    assert not missing, f"used but not requested: {sorted(missing)}"
    assert "user" not in manifest["oauth_config"]["scopes"]


@pytest.mark.parametrize("manifest", [SOCKET, HTTP], ids=["socket", "http"])
def test_the_one_slash_command_is_the_one_the_code_answers(
    manifest: dict[str, Any],
) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == messages.COMMAND == "/jarvice"
    assert len(command["description"]) <= 100
    assert "help" in command["description"]


def test_socket_manifest_needs_no_url_and_http_manifest_names_the_bolt_route() -> None:
    assert SOCKET["settings"]["socket_mode_enabled"] is True
    assert "url" not in SOCKET["features"]["slash_commands"][0]
    assert "request_url" not in SOCKET["settings"]["interactivity"]
    assert HTTP["settings"]["socket_mode_enabled"] is False
    for url in (
        HTTP["features"]["slash_commands"][0]["url"],
        HTTP["settings"]["interactivity"]["request_url"],
    ):
        assert url.startswith("https://")
        assert url.endswith("/slack/events")


def test_both_manifests_are_the_same_app_but_for_the_transport() -> None:
    def strip(manifest: dict[str, Any]) -> dict[str, Any]:
        bare = copy.deepcopy(manifest)
        bare["settings"].pop("socket_mode_enabled")
        bare["settings"]["interactivity"].pop("request_url", None)
        bare["features"]["slash_commands"][0].pop("url", None)
        return bare

    assert strip(SOCKET) == strip(HTTP)
    assert SOCKET["settings"]["interactivity"]["is_enabled"] is True


def test_app_texts_fit_slack_limits() -> None:
    info = SOCKET["display_information"]
    assert len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert len(SOCKET["features"]["bot_user"]["display_name"]) <= 80


def scope_table(doc: Path) -> list[str]:
    """The first column of the doc's table headed `| scope |`."""
    lines = iter(doc.read_text().splitlines())
    for line in lines:
        if line.strip().startswith("| scope |"):
            break
    next(lines, None)  # the |---| row
    rows = []
    for line in lines:
        if not line.strip().startswith("|"):
            break
        rows.append(line.strip().split("|")[1].strip().strip("`"))
    return rows


@pytest.mark.parametrize(
    "doc", [DOCS, ROOT / "docs" / "slack.md"], ids=["operators", "slack"]
)
def test_the_docs_list_exactly_the_manifest_scopes(doc: Path) -> None:
    assert sorted(scope_table(doc)) == sorted(bot_scopes(SOCKET))
