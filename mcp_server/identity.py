"""Who a request acts for.

On stdio the server acts for the one JARVICE user in the environment. Over
HTTP every request carries a bearer token that the server maps, on its own
side, to one JARVICE user's credentials and role: the client never sends a
JARVICE key, and the bearer token is never sent to JARVICE.

The token file (JSON; also accepted inline in `JARVICE_MCP_TOKENS`)::

    {"users": [
      {"name": "alice-laptop", "token_sha256": "<64 hex>",
       "username": "alice", "apikey_env": "ALICE_JARVICE_APIKEY"},
      {"name": "ops", "token": "<bearer token>", "username": "admin",
       "apikey": "<JARVICE API key>", "role": "admin"}
    ]}

Each entry has `token` or `token_sha256` (the hex SHA-256 of the token, so
the file need not hold tokens in clear), and `apikey` or `apikey_env` (the
name of an environment variable holding it). `role` is `user` (default) or
`admin`; `name` (default: the username) identifies the entry in logs.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from jarvice_tools.settings import Caller, Credentials, JarviceSettings
from mcp_server import wording
from mcp_server.config import ServerConfig

__all__ = [
    "ADMIN_SCOPE",
    "ConfigurationError",
    "Identities",
    "Principal",
    "TokenEntry",
    "TokenFile",
    "load_identities",
    "new_token",
    "token_digest",
]

ADMIN_SCOPE = "jarvice:admin"
USER_SCOPE = "jarvice:user"


class ConfigurationError(Exception):
    """The server cannot start as configured; the message says how to fix it."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh bearer token and its SHA-256 digest."""
    token = "jmcp_" + secrets.token_urlsafe(24)
    return token, token_digest(token)


@dataclass(frozen=True)
class Principal:
    """One identity the server acts for: a name for logs and bindings, and
    the JARVICE caller (None when no credentials are configured)."""

    id: str
    caller: Caller | None

    @property
    def admin(self) -> bool:
        return self.caller is not None and self.caller.admin


class TokenEntry(BaseModel):
    """One user of the token file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, min_length=1)
    token: SecretStr | None = None
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    username: str = Field(min_length=1)
    apikey: SecretStr | None = None
    apikey_env: str | None = Field(default=None, min_length=1)
    role: Literal["user", "admin"] = "user"

    @model_validator(mode="after")
    def _one_of_each(self) -> TokenEntry:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give exactly one of token and token_sha256")
        if (self.apikey is None) == (self.apikey_env is None):
            raise ValueError("give exactly one of apikey and apikey_env")
        return self

    @property
    def label(self) -> str:
        return self.name or self.username

    def digest(self) -> str:
        if self.token is not None:
            return token_digest(self.token.get_secret_value())
        assert self.token_sha256 is not None
        return self.token_sha256.lower()

    def caller(self, environ: Mapping[str, str]) -> Caller:
        key = self.apikey
        if key is None:
            assert self.apikey_env is not None
            value = environ.get(self.apikey_env, "")
            if not value.strip():
                raise ConfigurationError(
                    f"Token file entry {self.label}: the environment variable "
                    f"{self.apikey_env} that should hold its API key is not set."
                )
            key = SecretStr(value)
        credentials = Credentials(username=self.username, apikey=key)
        return Caller(credentials=credentials, admin=self.role == "admin")


class TokenFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    users: list[TokenEntry] = Field(min_length=1)


class Identities:
    """Maps a request to its principal: the bearer token's user over HTTP,
    the configured user on stdio."""

    def __init__(
        self,
        *,
        default: Principal | None = None,
        by_digest: Mapping[str, Principal] | None = None,
    ) -> None:
        self.default = default
        self._by_digest = dict(by_digest or {})
        self._by_id = {p.id: p for p in self._by_digest.values()}

    @property
    def uses_tokens(self) -> bool:
        return bool(self._by_digest)

    @property
    def principals(self) -> list[Principal]:
        listed = list(self._by_id.values())
        return listed if listed else [p for p in [self.default] if p is not None]

    @property
    def any_admin(self) -> bool:
        return any(p.admin for p in self.principals)

    def current(self) -> Principal | None:
        """The principal of the request being handled, if any."""
        token = get_access_token()
        if token is not None:
            return self._by_id.get(token.client_id)
        return self.default

    def verifier(self) -> BearerTokens:
        return BearerTokens(self._by_digest)


class BearerTokens(TokenVerifier):
    """Accepts exactly the configured tokens, compared by their SHA-256."""

    def __init__(self, by_digest: Mapping[str, Principal]) -> None:
        self._by_digest = dict(by_digest)

    async def verify_token(self, token: str) -> AccessToken | None:
        digest = token_digest(token)
        principal = self._by_digest.get(digest)
        if principal is None or principal.caller is None:
            return None
        scopes = [USER_SCOPE, ADMIN_SCOPE] if principal.admin else [USER_SCOPE]
        return AccessToken(
            token=digest,
            client_id=principal.id,
            scopes=scopes,
            subject=principal.caller.username,
        )


def load_identities(
    config: ServerConfig,
    settings: JarviceSettings,
    environ: Mapping[str, str] | None = None,
) -> Identities:
    """The identities for `config`: the environment's user on stdio, the
    token file's and environment's bearer tokens over HTTP."""
    env = os.environ if environ is None else environ
    if config.transport == "stdio":
        return Identities(default=_stdio_principal(config, settings))

    entries = list(_file_entries(config.token_file))
    if config.tokens is not None:
        entries += _parse_entries(
            config.tokens.get_secret_value(), "JARVICE_MCP_TOKENS"
        )
    by_digest: dict[str, Principal] = {}
    for entry in entries:
        principal = Principal(f"token:{entry.label}", entry.caller(env))
        _add(by_digest, entry.digest(), principal)
    if config.token is not None:
        principal = _stdio_principal(config, settings)
        if principal.caller is None:
            raise ConfigurationError(
                "JARVICE_MCP_TOKEN is set, so JARVICE_USERNAME and "
                "JARVICE_APIKEY must be set too: they are the user it acts for."
            )
        single = Principal(f"token:{principal.caller.username}", principal.caller)
        _add(by_digest, token_digest(config.token.get_secret_value()), single)
    if not by_digest:
        raise ConfigurationError(wording.HTTP_NEEDS_TOKENS)
    return Identities(by_digest=by_digest)


def _stdio_principal(config: ServerConfig, settings: JarviceSettings) -> Principal:
    if not (settings.username and settings.apikey):
        return Principal("stdio", None)
    credentials = Credentials(username=settings.username, apikey=settings.apikey)
    caller = Caller(credentials=credentials, admin=config.admin or settings.admin)
    return Principal(f"stdio:{settings.username}", caller)


def _add(by_digest: dict[str, Principal], digest: str, principal: Principal) -> None:
    if digest in by_digest:
        raise ConfigurationError(
            f"Two token entries ({by_digest[digest].id} and {principal.id}) have "
            "the same bearer token; give each user its own."
        )
    if any(p.id == principal.id for p in by_digest.values()):
        raise ConfigurationError(
            f"Two token entries are named {principal.id.removeprefix('token:')}; "
            "give them distinct names."
        )
    by_digest[digest] = principal


def _file_entries(path: Path | None) -> list[TokenEntry]:
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(
            f"The token file {path} could not be read ({error.strerror}); check "
            "JARVICE_MCP_TOKEN_FILE or --token-file."
        ) from None
    return _parse_entries(text, str(path))


def _parse_entries(text: str, where: str) -> list[TokenEntry]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ConfigurationError(
            f"{where} is not valid JSON (line {getattr(error, 'lineno', '?')}); "
            "see docs/mcp.md for the format."
        ) from None
    try:
        return TokenFile.model_validate(data).users
    except ValueError as error:
        raise ConfigurationError(
            f"{where} does not have the expected shape: {_brief(error)}. See "
            "docs/mcp.md for the format."
        ) from None


def _brief(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if errors is None:
        return str(error)
    parts = []
    for item in errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)
