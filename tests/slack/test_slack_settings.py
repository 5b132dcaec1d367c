"""Start-up settings: a missing or malformed one is named, with what fits."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from jarvice_tools.client import JarviceClient
from slack_bot.__main__ import main
from slack_bot.settings import DEFAULT_SLACK_API_URL, SettingsError, SlackSettings

KEY = Fernet.generate_key().decode()
GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "s3cret",
    "JARVICE_TOOLS_ENCRYPTION_KEY": KEY,
}


def test_defaults_fill_what_is_not_set() -> None:
    settings = SlackSettings.from_env(GOOD)
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert settings.jarvice_api_url == "https://cloud.nimbix.net/api"
    assert settings.admin_users == frozenset()
    assert settings.database_url is None
    assert not settings.socket_mode
    assert "s3cret" not in repr(settings)


def test_admins_and_urls_are_read() -> None:
    settings = SlackSettings.from_env(
        {
            **GOOD,
            "SLACK_ADMIN_USERS": "U01ABC, W02DEF,",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "JARVICE_API_URL": "http://jarvice.local/api/",
        }
    )
    assert settings.admin_users == {"U01ABC", "W02DEF"}
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.jarvice_api_url == "http://jarvice.local/api"


def test_socket_mode_needs_no_signing_secret() -> None:
    env = {**GOOD, "SLACK_APP_TOKEN": "xapp-1-abc"}
    del env["SLACK_SIGNING_SECRET"]
    assert SlackSettings.from_env(env).socket_mode


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN must be a bot token"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN must be an app-level"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL must be an http(s) URL"),
        ({"SLACK_ADMIN_USERS": "alice@x.org"}, "SLACK_ADMIN_USERS must be"),
        ({"JARVICE_API_URL": "ftp://x"}, "JARVICE_API_URL must start with http"),
        ({"JARVICE_TIMEOUT": "-1"}, "JARVICE_TIMEOUT must be a number"),
        (
            {"JARVICE_TOOLS_ENCRYPTION_KEY": ""},
            "JARVICE_TOOLS_ENCRYPTION_KEY is not set",
        ),
        ({"JARVICE_TOOLS_ENCRYPTION_KEY": "short"}, "is not a Fernet key"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL: "),
    ],
)
def test_a_bad_setting_is_named(change: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        SlackSettings.from_env({**GOOD, **change})
    assert named in str(caught.value)
    assert len(caught.value.problems) == 1


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        SlackSettings.from_env({})
    assert len(caught.value.problems) == 3


def test_the_command_refuses_to_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in GOOD:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "x")
    assert main(["--port", "0"]) == 2
    assert "JARVICE_TOOLS_ENCRYPTION_KEY is not set" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value"),
    [("JARVICE_ADMIN", "maybe"), ("JARVICE_TIMEOUT", "abc")],
)
def test_other_jarvice_variables_do_not_break_the_api_url(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """JARVICE_ADMIN and the like belong to the MCP server's stdio mode: the
    Slack app reads its settings from the environment it is given, and the
    client it builds takes the URL alone, so a bad one elsewhere in the
    process's environment does not turn into a complaint about the URL."""
    monkeypatch.setenv(name, value)
    settings = SlackSettings.from_env(
        {**GOOD, "JARVICE_API_URL": "http://jarvice.local/api/"}
    )

    assert settings.jarvice_api_url == "http://jarvice.local/api"
    client = JarviceClient(settings.jarvice_api_url)
    assert client.api_url == "http://jarvice.local/api"


def test_help_names_the_routes_the_port_serves(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "/slack/events, /health, /ready and /metrics" in text
    assert "/healthz" not in text


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("PORT", "abc", "'abc' is not a port number"),
        ("PORT", "70000", "'70000' is not a port number"),
        ("LOG_LEVEL", "verbose", "LOG_LEVEL must be one of DEBUG, INFO"),
    ],
)
def test_the_command_names_a_bad_port_or_log_level(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    says: str,
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as stopped:
        main([])

    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert says in error
    assert "Traceback" not in error
