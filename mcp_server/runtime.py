"""What every tool needs at call time: configuration, identities, the
JARVICE client, confirmation tokens and result limits."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mcp.server.mcpserver.exceptions import ToolError

from jarvice_tools.client import JarviceClient
from mcp_server import wording
from mcp_server.config import ServerConfig
from mcp_server.confirm import ConfirmationTokens
from mcp_server.identity import Identities, Principal
from mcp_server.results import Limits

__all__ = ["Runtime"]


@dataclass
class Runtime:
    """`client` may be a JARVICE client or a function making one: then it
    is made on first use (listing tools needs none) and `aclose` closes it."""

    config: ServerConfig
    identities: Identities
    client_or_factory: JarviceClient | Callable[[], JarviceClient]
    tokens: ConfirmationTokens = field(default_factory=ConfirmationTokens)
    now: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic

    @property
    def client(self) -> JarviceClient:
        if not isinstance(self.client_or_factory, JarviceClient):
            self.client_or_factory = self.client_or_factory()
        return self.client_or_factory

    async def aclose(self) -> None:
        if isinstance(self.client_or_factory, JarviceClient):
            await self.client_or_factory.aclose()

    @property
    def limits(self) -> Limits:
        return Limits(
            max_lines=self.config.max_output_lines,
            max_bytes=self.config.max_output_bytes,
            max_items=self.config.max_list_items,
        )

    def principal(self) -> Principal:
        """Who the request being handled acts for."""
        principal = self.identities.current()
        if principal is None:
            raise ToolError(wording.NOT_AUTHENTICATED)
        return principal

    def client_for(self, principal: Principal) -> JarviceClient:
        if principal.caller is None:
            return self.client
        return self.client.for_caller(principal.caller)
