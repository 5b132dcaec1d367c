from __future__ import annotations

import logging

import pytest

from jarvice_tools.redact import redact
from jarvice_tools.settings import Credentials, JarviceSettings

KEY = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.mark.parametrize(
    "text",
    [
        f"GET https://x/jarvice/status?username=a&apikey={KEY}&number=1",
        f'{{"user": {{"username": "a", "apikey": "{KEY}"}}}}',
        f"{{'apikey': '{KEY}'}}",
    ],
)
def test_api_key_parameters_are_masked(text: str) -> None:
    assert KEY not in redact(text)
    assert "***" in redact(text)


def test_a_url_with_a_key_logged_by_httpx_is_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import jarvice_tools.client  # noqa: F401  (installs the filter)

    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            'HTTP Request: GET %s "HTTP/1.1 200 OK"',
            f"https://x/jarvice/jobs?username=a&apikey={KEY}",
        )

    assert KEY not in caplog.text
    assert "apikey=***" in caplog.text


@pytest.mark.parametrize(
    "name", ["httpx", "httpcore.http11", "httpcore.connection", "jarvice_tools.client"]
)
def test_every_logger_that_sees_requests_is_filtered(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    import jarvice_tools.client  # noqa: F401  (installs the filter)

    with caplog.at_level(logging.DEBUG, logger=name):
        logging.getLogger(name).debug("sent apikey=%s", KEY)

    assert KEY not in caplog.text
    assert "sent apikey=***" in caplog.text


def test_handler_redaction_covers_any_logger() -> None:
    from jarvice_tools.redact import install_handler_redaction

    root = logging.getLogger("redaction-test")
    root.propagate = False
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    root.addHandler(Keep())
    install_handler_redaction(root)
    logging.getLogger("redaction-test.deep.child").warning("apikey=%s", KEY)

    assert records == ["apikey=***"]


def test_settings_and_credentials_never_show_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JARVICE_USERNAME", "alice")
    monkeypatch.setenv("JARVICE_APIKEY", KEY)

    settings = JarviceSettings()
    credentials = Credentials(username="alice", apikey=KEY)  # type: ignore[arg-type]

    for shown in (
        repr(settings),
        str(settings),
        repr(credentials),
        repr(settings.caller()),
    ):
        assert KEY not in shown


def test_missing_credentials_name_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JARVICE_USERNAME", raising=False)
    monkeypatch.delenv("JARVICE_APIKEY", raising=False)

    with pytest.raises(ValueError, match="JARVICE_USERNAME and JARVICE_APIKEY"):
        JarviceSettings().caller()


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://cloud.nimbix.net/api/", "https://cloud.nimbix.net/api"),
        ("http://127.0.0.1:8642", "http://127.0.0.1:8642"),
    ],
)
def test_api_url_may_carry_a_path(url: str, normalised: str) -> None:
    assert JarviceSettings(api_url=url).api_url == normalised


def test_api_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="must start with http"):
        JarviceSettings(api_url="cloud.nimbix.net/api")
