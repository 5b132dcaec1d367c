"""The Slack app's configuration, from the environment, checked at start.

Every setting is read and checked before anything starts; a missing or
malformed one stops start-up with a message naming the variable and what
it should hold. Secrets are `SecretStr` and never printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import SecretStr

from jarvice_tools.settings import DEFAULT_API_URL, normalise_api_url
from slack_bot.store import KeyBox, database_url

__all__ = ["DEFAULT_SLACK_API_URL", "SettingsError", "SlackSettings"]

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


class SettingsError(Exception):
    """One or more settings are missing or malformed (each line names one)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "The Slack app cannot start:\n" + "\n".join(f"- {p}" for p in problems)
        )


@dataclass(frozen=True)
class SlackSettings:
    """Checked settings; build with `SlackSettings.from_env()`."""

    bot_token: SecretStr
    encryption_key: SecretStr
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    admin_users: frozenset[str] = field(default_factory=frozenset)
    jarvice_api_url: str = DEFAULT_API_URL
    jarvice_timeout: float = 30.0
    database_url: str | None = None

    @property
    def socket_mode(self) -> bool:
        """True when SLACK_APP_TOKEN is set: connect out to Slack instead of
        serving HTTP."""
        return self.app_token is not None

    def key_box(self) -> KeyBox:
        return KeyBox(self.encryption_key)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SlackSettings:
        env = os.environ if environ is None else environ
        problems: list[str] = []

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        bot_token = get("SLACK_BOT_TOKEN")
        if bot_token is None:
            problems.append(
                "SLACK_BOT_TOKEN is not set: the Bot User OAuth Token (xoxb-...) "
                "from the Slack app's OAuth & Permissions page."
            )
        elif not bot_token.startswith("xoxb-"):
            problems.append(
                "SLACK_BOT_TOKEN must be a bot token starting with xoxb- (from "
                "OAuth & Permissions), not a user or app-level token."
            )

        app_token = get("SLACK_APP_TOKEN")
        if app_token is not None and not app_token.startswith("xapp-"):
            problems.append(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp- "
                "(Basic Information > App-Level Tokens, scope connections:write); "
                "leave it unset to serve HTTP instead of Socket Mode."
            )

        signing_secret = get("SLACK_SIGNING_SECRET")
        if signing_secret is None and app_token is None:
            problems.append(
                "SLACK_SIGNING_SECRET is not set: the Signing Secret from the "
                "Slack app's Basic Information page (needed in HTTP mode, i.e. "
                "without SLACK_APP_TOKEN)."
            )

        api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not api_url.startswith(("http://", "https://")):
            problems.append(
                f"SLACK_API_URL must be an http(s) URL such as "
                f"{DEFAULT_SLACK_API_URL} (got {api_url!r})."
            )
        api_url = api_url.rstrip("/") + "/"

        admins = frozenset(
            part.strip() for part in (get("SLACK_ADMIN_USERS") or "").split(",")
        ) - {""}
        bad_admins = sorted(a for a in admins if not _SLACK_USER.match(a))
        if bad_admins:
            problems.append(
                "SLACK_ADMIN_USERS must be comma-separated Slack user IDs like "
                "U0123ABCD (not names or e-mails); these are not: "
                f"{', '.join(bad_admins)}."
            )

        jarvice_url = get("JARVICE_API_URL") or DEFAULT_API_URL
        try:
            jarvice_url = normalise_api_url(jarvice_url)
        except ValueError as error:
            problems.append(f"JARVICE_API_URL {error}.")

        timeout = 30.0
        raw_timeout = get("JARVICE_TIMEOUT")
        if raw_timeout is not None:
            try:
                timeout = float(raw_timeout)
                if timeout <= 0:
                    raise ValueError
            except ValueError:
                problems.append(
                    f"JARVICE_TIMEOUT must be a number of seconds above 0 (got "
                    f"{raw_timeout!r})."
                )

        key = get("JARVICE_TOOLS_ENCRYPTION_KEY")
        if key is None:
            problems.append(
                "JARVICE_TOOLS_ENCRYPTION_KEY is not set: a Fernet key that "
                "encrypts the API keys users link. Generate one with: python -c "
                "'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())' and keep it safe."
            )
        else:
            try:
                KeyBox(key)
            except ValueError as error:
                problems.append(f"JARVICE_TOOLS_ENCRYPTION_KEY {error}.")

        raw_database = get("DATABASE_URL")
        try:
            database_url(raw_database)
        except ValueError as error:
            problems.append(f"DATABASE_URL: {error}.")

        if problems:
            raise SettingsError(problems)
        assert bot_token is not None
        assert key is not None
        return cls(
            bot_token=SecretStr(bot_token),
            encryption_key=SecretStr(key),
            signing_secret=SecretStr(signing_secret) if signing_secret else None,
            app_token=SecretStr(app_token) if app_token else None,
            slack_api_url=api_url,
            admin_users=admins,
            jarvice_api_url=jarvice_url,
            jarvice_timeout=timeout,
            database_url=raw_database,
        )
