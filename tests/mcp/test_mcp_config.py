"""Configuration: environment and flags, the token file, bearer tokens, and
the command line's refusals."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from jarvice_tools.actions import TOOLSETS
from jarvice_tools.settings import JarviceSettings
from mcp_server.__main__ import main, parser
from mcp_server.app import configure_logging
from mcp_server.config import ServerConfig
from mcp_server.identity import (
    ADMIN_SCOPE,
    ConfigurationError,
    Identities,
    load_identities,
    token_digest,
)

pytestmark = pytest.mark.anyio

SETTINGS = JarviceSettings(
    api_url="http://127.0.0.1:9", username="alice", apikey=SecretStr("k" * 40)
)


def test_defaults() -> None:
    config = ServerConfig()

    assert (config.transport, config.host, config.port) == ("stdio", "127.0.0.1", 8000)
    assert config.toolsets == TOOLSETS
    assert config.fallback == "token"
    assert ServerConfig(transport="http").fallback == "deny"
    assert ServerConfig(transport="http", confirm_fallback="token").fallback == "token"


def test_environment_is_read_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVICE_MCP_TOOLSETS", "machines, jobs")
    monkeypatch.setenv("JARVICE_MCP_ALLOWED_HOSTS", "mcp.example.org:443,mcp:8000")
    monkeypatch.setenv("JARVICE_MCP_READ_ONLY", "true")
    monkeypatch.setenv("JARVICE_ADMIN", "1")

    config = ServerConfig(read_only=False)

    assert config.toolsets == ("jobs", "machines")
    assert config.allowed_hosts == ("mcp.example.org:443", "mcp:8000")
    assert config.read_only is False
    assert config.admin is True


@pytest.mark.parametrize(
    ("settings", "field", "message"),
    [
        ({"toolsets": "jobs,nope"}, "toolsets", "unknown toolset nope"),
        ({"state_keys": "short"}, "state_keys", "at least 32 characters"),
        ({"port": 70000}, "port", "less than or equal to 65535"),
    ],
)
def test_bad_settings_are_named(
    settings: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        ServerConfig(**settings)

    (problem,) = raised.value.errors()
    assert problem["loc"] == (field,)
    assert message in problem["msg"]


def test_the_command_line_explains_a_bad_setting_without_echoing_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JARVICE_MCP_STATE_KEYS", "my-secret-but-short")

    code = main(["--toolsets", "jobs"])

    err = capsys.readouterr().err
    assert code == 2
    assert "state_keys (JARVICE_MCP_STATE_KEYS): each key must be at least" in err
    assert "my-secret-but-short" not in err


def test_generate_token_prints_a_token_and_its_digest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--generate-token"]) == 0

    out = capsys.readouterr().out
    token = out.split("bearer token : ")[1].split()[0]
    digest = out.split("token_sha256 : ")[1].split()[0]
    assert hashlib.sha256(token.encode()).hexdigest() == digest


def token_file(tmp_path: Path, users: list[dict[str, Any]]) -> Path:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"users": users}))
    return path


def test_token_file_maps_tokens_to_users(tmp_path: Path) -> None:
    path = token_file(
        tmp_path,
        [
            {
                "name": "alice-laptop",
                "token_sha256": token_digest("t-alice"),
                "username": "alice",
                "apikey_env": "ALICE_KEY",
            },
            {
                "token": "t-ops",
                "username": "admin",
                "apikey": "a" * 40,
                "role": "admin",
            },
        ],
    )
    config = ServerConfig(transport="http", token_file=path)

    identities = load_identities(config, SETTINGS, {"ALICE_KEY": "b" * 40})

    alice, ops = identities.principals
    assert alice.id == "token:alice-laptop"
    assert alice.caller is not None
    assert alice.caller.credentials.apikey.get_secret_value() == "b" * 40
    assert not alice.admin
    assert ops.admin
    assert identities.any_admin


async def test_bearer_tokens_are_checked_by_digest(tmp_path: Path) -> None:
    config = ServerConfig(transport="http", token=SecretStr("single-token"))
    verifier = load_identities(config, SETTINGS, {}).verifier()

    known = await verifier.verify_token("single-token")
    unknown = await verifier.verify_token("single-token ")

    assert known is not None
    assert known.client_id == "token:alice"
    assert known.token == token_digest("single-token")
    assert ADMIN_SCOPE not in known.scopes
    assert unknown is None


@pytest.mark.parametrize(
    ("users", "environ", "message"),
    [
        (
            [{"token": "x", "username": "a", "apikey": "k", "apikey_env": "K"}],
            {},
            "exactly one of apikey and apikey_env",
        ),
        (
            [{"token": "x", "username": "a", "apikey_env": "K"}],
            {},
            "K that should hold",
        ),
        (
            [
                {"token": "x", "username": "a", "apikey": "k"},
                {"token": "x", "username": "b", "apikey": "k"},
            ],
            {},
            "the same bearer token",
        ),
        (
            [{"token": "x", "username": "a", "apikey": "k", "role": "root"}],
            {},
            "users.0.role",
        ),
    ],
)
def test_token_file_problems_are_explained(
    tmp_path: Path, users: list[dict[str, Any]], environ: dict[str, str], message: str
) -> None:
    config = ServerConfig(transport="http", token_file=token_file(tmp_path, users))

    with pytest.raises(ConfigurationError, match=message) as raised:
        load_identities(config, SETTINGS, environ)

    assert "'k'" not in str(raised.value)


def test_inline_tokens_that_are_not_json_are_refused() -> None:
    config = ServerConfig(transport="http", tokens=SecretStr("{not json"))

    with pytest.raises(
        ConfigurationError, match="JARVICE_MCP_TOKENS is not valid JSON"
    ):
        load_identities(config, SETTINGS, {})


def test_http_without_any_token_does_not_start() -> None:
    with pytest.raises(ConfigurationError, match="at least one bearer token"):
        load_identities(ServerConfig(transport="http"), SETTINGS, {})


def test_stdio_acts_for_the_environment_user() -> None:
    identities = load_identities(ServerConfig(admin=True), SETTINGS, {})

    default = identities.default
    assert default is not None
    assert default.id == "stdio:alice"
    assert default.admin
    assert identities.any_admin
    assert not identities.uses_tokens
    assert Identities().current() is None


def test_the_docs_list_every_flag_and_variable() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "mcp.md").read_text()
    flags = [
        option
        for action in parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]
    variables = [
        field.validation_alias
        if isinstance(field.validation_alias, str)
        else f"JARVICE_MCP_{name.upper()}"
        for name, field in ServerConfig.model_fields.items()
    ]

    for name in [*flags, *variables]:
        assert f"`{name}`" in docs, name


def test_logging_masks_api_keys_from_any_logger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO")
        logging.getLogger("mcp.server.lowlevel.deep").warning("apikey=%s", "k" * 40)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)

    err = capsys.readouterr().err
    assert "apikey=***" in err
    assert "k" * 40 not in err
