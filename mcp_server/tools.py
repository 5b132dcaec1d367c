"""The action registry as MCP tools: one `jarvice_<action>` tool per action.

Each tool is built from its action alone. The handler gets a synthesized
signature, one keyword argument per field of the action's parameter model,
so the SDK lists a flat input schema with the fields' descriptions and
bounds and rejects out-of-range values before anything runs. Title,
description and annotations follow from the action's guard; the output
schema from its result (see `results`). A confirm-guarded action also gets
a `Resolve` parameter that asks the person (see `confirm`).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    DeclinedElicitation,
    Elicit,
    ElicitationResult,
    Resolve,
)
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo

from jarvice_tools import errors
from jarvice_tools.actions import Action
from jarvice_tools.actions.base import problems_from
from jarvice_tools.guards import Confirmation, confirm, fingerprint
from jarvice_tools.models.base import RequestModel
from jarvice_tools.summaries import iso_time
from mcp_server import wording
from mcp_server.confirm import (
    ConfirmAnswer,
    NotAsked,
    TokenRefused,
    can_elicit,
    lacks_back_channel,
    uses_input_required,
)
from mcp_server.results import (
    Limits,
    Untrusted,
    compact_schema,
    lean_output_schema,
    limits_note,
    map_descriptions,
    output_model,
    present,
    upstream_lines,
)
from mcp_server.runtime import Runtime

__all__ = [
    "Body",
    "Generated",
    "action_tool",
    "annotations_for",
    "build_tool",
    "parse",
    "tool_name",
]

Body = Callable[[Context, dict[str, Any], dict[str, Any]], Awaitable[CallToolResult]]
"""A tool body: (context, the parameter fields' values, the other arguments)."""

_KEYWORD = inspect.Parameter.KEYWORD_ONLY

READ_ANNOTATIONS = ToolAnnotations(read_only_hint=True)
"""Hints are listed only where they differ from the MCP defaults (readOnly
false, destructive true, idempotent false, openWorld true) or, for
destructiveHint, where a client must not guess; destructive and idempotent
mean something only for tools that are not read-only."""


def tool_name(action: Action[Any, Any]) -> str:
    return f"jarvice_{action.name}"


OVERWRITING = frozenset({"pull"})
"""Write actions that replace something without asking first: pull puts a
new image in place of an application's. Destructive, not confirm-gated."""


def annotations_for(action: Action[Any, Any]) -> ToolAnnotations:
    """Hints from the guard: reads are read-only; the actions that may need
    confirmation (terminate, shutdown, build, and signal for signals that
    end processes) and those in `OVERWRITING` are the destructive ones;
    nothing that changes state is idempotent; everything talks to JARVICE
    (open world, the default)."""
    if not action.changes_state:
        return READ_ANNOTATIONS
    destructive = action.may_need_confirmation or action.name in OVERWRITING
    return ToolAnnotations(destructive_hint=destructive)


def parse(params: type[RequestModel], values: Mapping[str, Any], tool: str) -> Any:
    """The real parameter model (cross-field rules included), or a readable
    `ToolError` naming each field at fault."""
    try:
        return params.model_validate(dict(values))
    except ValidationError as error:
        problems = problems_from(error)
        raise ToolError(
            wording.invalid_arguments(tool, [str(p) for p in problems])
        ) from None


def _field_parameter(name: str, field: FieldInfo) -> inspect.Parameter:
    annotation = Annotated[field.annotation, field]  # type: ignore[name-defined]
    required = field.is_required() or field.default_factory is not None
    default = inspect.Parameter.empty if required else field.default
    return inspect.Parameter(name, _KEYWORD, annotation=annotation, default=default)


def _synthesize(
    fn: Callable[..., Any],
    name: str,
    parameters: list[inspect.Parameter],
    returns: Any = inspect.Signature.empty,
) -> None:
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    hints = {p.name: p.annotation for p in parameters}
    if returns is not inspect.Signature.empty:
        hints["return"] = returns
    fn.__annotations__ = hints


@dataclass(frozen=True)
class Generated:
    """A generated tool and the model its arguments must satisfy."""

    tool: Tool
    params: type[BaseModel]


def build_tool(
    *,
    name: str,
    title: str,
    description: str,
    params: type[BaseModel],
    annotations: ToolAnnotations,
    output: type[BaseModel] | None,
    body: Body,
    extra: list[inspect.Parameter] | None = None,
    untrusted: Untrusted = (),
) -> Generated:
    """A tool whose arguments are `params`'s fields plus `extra`;
    `untrusted` names output fields holding text the job printed."""
    fields = dict(params.model_fields)
    extra = extra or []
    extra_names = {p.name for p in extra}

    async def handler(**arguments: Any) -> CallToolResult:
        ctx = arguments.pop("ctx")
        others = {k: arguments.pop(k) for k in list(arguments) if k in extra_names}
        return await body(ctx, arguments, others)

    parameters = [inspect.Parameter("ctx", _KEYWORD, annotation=Context)]
    parameters += [_field_parameter(n, f) for n, f in fields.items()]
    parameters += extra
    returns = Annotated[CallToolResult, output] if output else CallToolResult
    _synthesize(handler, name, parameters, returns)

    tool = Tool.from_function(
        handler,
        name=name,
        title=title,
        description=description,
        annotations=annotations,
        structured_output=output is not None,
    )
    tool.parameters = map_descriptions(
        compact_schema(tool.parameters), wording.tool_names
    )
    if tool.fn_metadata.output_schema is not None:
        schema = lean_output_schema(tool.fn_metadata.output_schema, untrusted=untrusted)
        tool.fn_metadata.output_schema = schema
    return Generated(tool, params)


def action_tool(action: Action[Any, Any], runtime: Runtime) -> Generated:
    """The MCP tool for one action."""
    name = tool_name(action)
    limits = runtime.limits
    extra: list[inspect.Parameter] = []
    if action.may_need_confirmation:
        extra = _confirm_parameters(action, runtime)

    async def body(
        ctx: Context, values: dict[str, Any], others: dict[str, Any]
    ) -> CallToolResult:
        principal = runtime.principal()
        client = runtime.client_for(principal)
        params = parse(action.params, values, name)
        sent = _bounded_lines(params, limits)
        confirmation = None
        if action.needs_confirmation(sent):
            confirmation = await _settle(action, runtime, ctx, sent, others)
        try:
            value = await client.run(action, sent, confirmation=confirmation)
            return present(action, params, value, limits, now=runtime.now())
        except errors.JarviceError as error:
            raise ToolError(str(error)) from None

    return build_tool(
        name=name,
        title=action.title,
        description=wording.tool_description(
            action, limits_note=limits_note(action, limits)
        ),
        params=action.params,
        annotations=annotations_for(action),
        output=output_model(action),
        body=body,
        extra=extra,
    )


def _bounded_lines(params: RequestModel, limits: Limits) -> RequestModel:
    """Output-like actions ask JARVICE for this server's default number of
    lines when none is given, and never for more than a result can hold."""
    if "lines" not in type(params).model_fields:
        return params
    lines = upstream_lines(getattr(params, "lines", None), limits)
    return params.model_copy(update={"lines": lines})


# -- confirmation --------------------------------------------------------------------


def _confirm_parameters(
    action: Action[Any, Any], runtime: Runtime
) -> list[inspect.Parameter]:
    resolver = _question(action, runtime)
    answer = Annotated[ElicitationResult[ConfirmAnswer], Resolve(resolver)]
    parameters = [inspect.Parameter("answer", _KEYWORD, annotation=answer)]
    if runtime.config.fallback == "token":
        token = Annotated[str | None, Field(description=wording.TOKEN_PARAMETER)]
        parameters.append(
            inspect.Parameter(
                "confirmation_token", _KEYWORD, annotation=token, default=None
            )
        )
    return parameters


def _question(action: Action[Any, Any], runtime: Runtime) -> Callable[..., Any]:
    """The resolver that asks the person, when the client can be asked."""
    name = tool_name(action)

    async def ask(**values: Any) -> Elicit[ConfirmAnswer] | NotAsked:
        ctx: Context = values.pop("ctx")
        params = parse(action.params, values, name)
        if not action.needs_confirmation(params) or not can_elicit(ctx):
            return NotAsked()
        principal = runtime.principal()
        client = runtime.client_for(principal)
        try:
            preview = await client.preview(action, params)
        except errors.JarviceError as error:
            raise ToolError(str(error)) from None
        question = wording.confirmation_question(
            action,
            preview,
            started=iso_time(preview.started_at),
            running_for=not uses_input_required(ctx),
        )
        return Elicit(question, ConfirmAnswer)

    parameters = [inspect.Parameter("ctx", _KEYWORD, annotation=Context)]
    parameters += [inspect.Parameter(n, _KEYWORD) for n in action.params.model_fields]
    _synthesize(ask, f"{name}_confirmation", parameters)
    return ask


async def _settle(
    action: Action[Any, Any],
    runtime: Runtime,
    ctx: Context,
    params: RequestModel,
    others: dict[str, Any],
) -> Confirmation:
    """A confirmation for this exact call, or a `ToolError` saying why not."""
    name = tool_name(action)
    principal = runtime.principal()
    answer = others.get("answer")
    what = params.job_reference() or str(getattr(params, "target", action.name))
    if isinstance(answer, DeclinedElicitation):
        raise ToolError(wording.declined(action, what))
    if isinstance(answer, CancelledElicitation):
        raise ToolError(wording.cancelled(action, what))
    caller = principal.caller
    if caller is None:
        raise ToolError(wording.NO_CALLER)
    data = answer.data if isinstance(answer, AcceptedElicitation) else None
    if isinstance(data, ConfirmAnswer):
        if not data.confirm:
            raise ToolError(wording.declined(action, what))
        by = wording.confirmed_by(principal.id, "asked through the client")
        return confirm(action.name, params, username=caller.username, confirmed_by=by)

    if runtime.config.fallback == "deny":
        if lacks_back_channel(ctx):
            version = ctx.protocol_version or "?"
            raise ToolError(wording.denied_on_version(action, what, version))
        raise ToolError(wording.denied(action, what))
    token = others.get("confirmation_token")
    if token:
        digest = fingerprint(action.name, params, caller.username)
        try:
            runtime.tokens.redeem(token, action.name, digest, principal.id, name)
        except TokenRefused as refusal:
            raise ToolError(str(refusal)) from None
        by = wording.confirmed_by(principal.id, "confirmation token")
        return confirm(action.name, params, username=caller.username, confirmed_by=by)

    client = runtime.client_for(principal)
    try:
        preview = await client.preview(action, params)
    except errors.JarviceError as error:
        raise ToolError(str(error)) from None
    issued = runtime.tokens.issue(action.name, preview.fingerprint, principal.id)
    minutes = max(1, int(runtime.tokens.ttl // 60))
    raise ToolError(wording.token_issued(action, name, preview, issued, minutes))
