"""The MCP server's configuration: environment first, flags override.

Every setting has a `JARVICE_MCP_*` environment variable (docs/mcp.md lists
them with their defaults); the JARVICE connection itself uses the tool
layer's `JARVICE_API_URL`, `JARVICE_USERNAME`, `JARVICE_APIKEY` and
`JARVICE_ADMIN`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from jarvice_tools.actions import TOOLSETS

__all__ = ["LOOPBACK_HOSTS", "ServerConfig"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

Fallback = Literal["token", "deny"]


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class ServerConfig(BaseSettings):
    """How `jarvice-mcp` serves: transport, gates, limits and identities."""

    model_config = SettingsConfigDict(
        env_prefix="JARVICE_MCP_", frozen=True, populate_by_name=True
    )

    transport: Literal["stdio", "http"] = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    admin: bool = Field(
        default=False,
        validation_alias="JARVICE_ADMIN",
        description="stdio: the configured user is an administrator.",
    )
    read_only: bool = False
    toolsets: Annotated[tuple[str, ...], NoDecode] = TOOLSETS
    confirm_fallback: Fallback | None = Field(
        default=None, description="Default: token on stdio, deny on HTTP."
    )
    token_file: Path | None = None
    tokens: SecretStr | None = Field(
        default=None, description="The token file's JSON, inline."
    )
    token: SecretStr | None = Field(
        default=None,
        description="One bearer token for JARVICE_USERNAME / JARVICE_APIKEY.",
    )
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    state_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    max_output_lines: int = Field(default=100, ge=1, le=100_000)
    max_output_bytes: int = Field(default=16_000, ge=1_000, le=10_000_000)
    max_list_items: int = Field(default=50, ge=1, le=10_000)
    max_wait: int = Field(default=600, ge=1, le=86_400)
    poll_interval: float = Field(default=5.0, gt=0, le=600)
    confirm_token_ttl: float = Field(default=300.0, gt=0, le=3600)
    sandbox: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("toolsets", "allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("state_keys", mode="before")
    @classmethod
    def _key_list(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return _split(value)

    @field_validator("toolsets")
    @classmethod
    def _known_toolsets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "all" in value:
            return TOOLSETS
        unknown = sorted(set(value) - set(TOOLSETS))
        if unknown:
            raise ValueError(
                f"unknown toolset {', '.join(unknown)}; valid: "
                f"{', '.join(TOOLSETS)} or all"
            )
        return tuple(name for name in TOOLSETS if name in value)

    @field_validator("state_keys")
    @classmethod
    def _long_keys(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        if any(len(key.get_secret_value()) < 32 for key in value):
            raise ValueError("each key must be at least 32 characters long")
        return value

    @property
    def fallback(self) -> Fallback:
        """What happens when a client cannot ask the user to confirm."""
        if self.confirm_fallback is not None:
            return self.confirm_fallback
        return "token" if self.transport == "stdio" else "deny"
