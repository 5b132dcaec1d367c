"""The MCP server: the gated tool set, resources, prompts and middleware.

Which tools exist follows from the action guards and the configuration:
`--read-only` keeps only tools that change nothing (and overrides
everything else), `--toolsets` keeps only the named groups, and admin tools
exist only when some caller is an administrator. Over HTTP, a caller who is
not an administrator does not see them listed, and the tool layer refuses
them at call time anyway.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from mcp.server.auth.settings import AuthSettings
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.request_state import RequestStateSecurity
from mcp.types import CallToolResult, InputRequiredResult
from pydantic import ValidationError

from jarvice_tools.actions import ACTIONS, Action, Guard
from jarvice_tools.actions.base import problems_from
from mcp_server import wording
from mcp_server.confirm import STATE_TTL, SingleUseStates, mask_tokens
from mcp_server.extras import (
    EXTRA_TOOLSET,
    add_prompts,
    add_resources,
    explain_tool,
    wait_tool,
)
from mcp_server.runtime import Runtime
from mcp_server.tools import Generated, action_tool, tool_name

__all__ = ["SERVER_NAME", "JarviceMCPServer", "build_server", "select_actions"]

SERVER_NAME = "jarvice"
VERSION = "0.1.0"

logger = logging.getLogger("mcp_server")
SDK_LOGGER = "mcp.server.mcpserver.server"
"""Where the SDK logs each refused tool call with its message."""


def select_actions(
    runtime: Runtime, *, admin_possible: bool | None = None
) -> list[Action[Any, Any]]:
    """The actions to serve as tools, by the gates, in registry order."""
    config = runtime.config
    if admin_possible is None:
        admin_possible = runtime.identities.any_admin
    chosen = []
    for action in ACTIONS.values():
        if action.toolset not in config.toolsets:
            continue
        if config.read_only and action.changes_state:
            continue
        if action.guard is Guard.ADMIN and not admin_possible:
            continue
        chosen.append(action)
    return chosen


class JarviceMCPServer(MCPServer[Any]):
    """`MCPServer` that refuses unknown arguments, words validation errors
    as the tool layer does (the field, what is wrong, nothing sent), and
    passes a tool's own error sentence on without the SDK's prefix."""

    def __init__(self, *args: Any, generated: list[Generated], **kwargs: Any) -> None:
        super().__init__(*args, tools=[g.tool for g in generated], **kwargs)
        self.params = {g.tool.name: g.params for g in generated}
        self.accepted = {
            g.tool.name: tuple(g.tool.parameters.get("properties", {}))
            for g in generated
        }

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any],
        context: Context[Any, Any] | None = None,
    ) -> CallToolResult | InputRequiredResult:
        accepted = self.accepted.get(name)
        if accepted is not None:
            unknown = [key for key in arguments if key not in accepted]
            if unknown:
                raise ToolError(
                    wording.unknown_arguments(name, unknown, list(accepted))
                )
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as error:
            cause = error.__cause__
            if isinstance(cause, ValidationError):
                problems = self._problems(name, arguments, cause)
                raise ToolError(wording.invalid_arguments(name, problems)) from cause
            message = str(error).removeprefix(f"Error executing tool {name}: ")
            raise ToolError(wording.tool_names(message)) from cause

    def _problems(
        self, name: str, arguments: dict[str, Any], error: ValidationError
    ) -> list[str]:
        """The parameter model's own account of what is wrong (its messages
        are the ones the tool layer and the Slack app give), else the SDK's."""
        model = self.params.get(name)
        if model is not None:
            try:
                model.model_validate(arguments)
            except ValidationError as own:
                error = own
        return [str(problem) for problem in problems_from(error)]


def build_server(runtime: Runtime) -> JarviceMCPServer:
    config = runtime.config
    actions = select_actions(runtime)
    generated = [action_tool(action, runtime) for action in actions]
    if EXTRA_TOOLSET in config.toolsets:
        generated += [wait_tool(runtime), explain_tool(runtime)]
    asked = "toolsets" in config.model_fields_set
    if asked and "admin" in config.toolsets and not runtime.identities.any_admin:
        logger.warning(wording.ADMIN_TOOLSET_SKIPPED)

    admin_tools = {tool_name(a) for a in actions if a.guard is Guard.ADMIN}
    auth: dict[str, Any] = {}
    if runtime.identities.uses_tokens:
        auth = {
            "token_verifier": runtime.identities.verifier(),
            "auth": AuthSettings(
                issuer_url=f"http://{_url_host(config.host)}:{config.port}",  # type: ignore[arg-type]
                resource_server_url=None,
            ),
        }
    state = _state_security(runtime)

    mask_tokens(logging.getLogger(SDK_LOGGER))
    server = JarviceMCPServer(
        SERVER_NAME,
        title=wording.SERVER_TITLE,
        instructions=wording.INSTRUCTIONS,
        version=VERSION,
        generated=generated,
        request_state_security=state,
        middleware=[_middleware(runtime, admin_tools)],
        log_level=config.log_level,
        **auth,
    )
    add_resources(server, runtime, set(config.toolsets))
    add_prompts(server, {g.tool.name for g in generated})
    return server


def _state_security(runtime: Runtime) -> RequestStateSecurity:
    """Sealed confirmation state: the shared keys (or one for this process),
    each state opened once here and only within `STATE_TTL`."""
    config = runtime.config
    keys = [key.get_secret_value() for key in config.state_keys]
    codec = SingleUseStates(
        keys or [secrets.token_bytes(32)],
        ttl=STATE_TTL,
        clock=lambda: runtime.now(),
    )
    return RequestStateSecurity(codec=codec, ttl=STATE_TTL)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _middleware(runtime: Runtime, admin_tools: set[str]) -> Any:
    """One log line per tool call; admin tools hidden from non-admins."""

    async def middleware(
        ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method == "tools/list":
            result = await call_next(ctx)
            principal = runtime.identities.current()
            admin = principal is not None and principal.admin
            if admin_tools and not admin and isinstance(result, dict):
                tools = result.get("tools", [])
                kept = [tool for tool in tools if tool.get("name") not in admin_tools]
                result = {**result, "tools": kept}
            return result
        if ctx.method != "tools/call":
            return await call_next(ctx)

        started = time.perf_counter()
        name = str((ctx.params or {}).get("name", "?"))
        principal = runtime.identities.current()
        who = principal.id if principal else "unknown"
        try:
            result = await call_next(ctx)
        except Exception:
            logger.warning("%s for %s failed at the protocol level", name, who)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        logger.info("%s for %s: %s in %.0f ms", name, who, _outcome(result), elapsed)
        return result

    return middleware


def _outcome(result: HandlerResult) -> str:
    data = result if isinstance(result, dict) else {}
    if data.get("isError"):
        return "refused or failed"
    if "inputRequests" in data:
        return "asked the user"
    return "ok"
