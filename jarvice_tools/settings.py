"""Typed configuration and identities: who calls JARVICE, and where.

Settings come from the environment (`JARVICE_API_URL`, `JARVICE_USERNAME`,
`JARVICE_APIKEY`, `JARVICE_ADMIN`) and are immutable once loaded. The API key
is a `SecretStr` everywhere, so it prints as `**********`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "DEFAULT_API_URL",
    "Caller",
    "Credentials",
    "JarviceSettings",
    "normalise_api_url",
]

DEFAULT_API_URL = "https://cloud.nimbix.net/api"


def normalise_api_url(url: str) -> str:
    """`url` without surrounding blanks or a trailing slash; ValueError
    (its message reads after the variable's name) unless it is http(s).

    Reads nothing else: front ends that take JARVICE_API_URL alone use this,
    not `JarviceSettings`, which reads every `JARVICE_*` variable."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(
            f"must start with http:// or https:// (got {url!r}), e.g. {DEFAULT_API_URL}"
        )
    return url


class Credentials(BaseModel):
    """A JARVICE username and its API key (not the portal password)."""

    model_config = ConfigDict(frozen=True)

    username: str = Field(min_length=1)
    apikey: SecretStr

    @field_validator("apikey")
    @classmethod
    def _apikey_not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("the API key is empty")
        return value


class Caller(BaseModel):
    """Who an action runs for: their credentials, and whether the deployment
    marks them as an admin (this unlocks the admin actions on our side;
    JARVICE still applies its own rules)."""

    model_config = ConfigDict(frozen=True)

    credentials: Credentials
    admin: bool = False

    @property
    def username(self) -> str:
        return self.credentials.username


class JarviceSettings(BaseSettings):
    """Where JARVICE is and who we are, from `JARVICE_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="JARVICE_", frozen=True)

    api_url: str = Field(
        default=DEFAULT_API_URL,
        description="Base URL that /jarvice/<endpoint> is appended to.",
    )
    username: str | None = None
    apikey: SecretStr | None = None
    admin: bool = False
    timeout: float = Field(default=30.0, gt=0, description="Seconds per request.")

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        return normalise_api_url(value)

    def caller(self) -> Caller:
        """The configured caller; a clear error names what is missing."""
        missing = [
            name
            for name, value in (
                ("JARVICE_USERNAME", self.username),
                ("JARVICE_APIKEY", self.apikey),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"{' and '.join(missing)} must be set: the JARVICE username and "
                "its API key (from the portal's Account section, not the password)."
            )
        assert self.username is not None
        assert self.apikey is not None
        credentials = Credentials(username=self.username, apikey=self.apikey)
        return Caller(credentials=credentials, admin=self.admin)
