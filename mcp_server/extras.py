"""What the server offers beyond one endpoint per tool: waiting for a job,
explaining a job, resources (a job's output, the app and machine
catalogues) and prompts (diagnosing a failed job, running a container)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field, create_model

from jarvice_tools import errors
from jarvice_tools.actions import Action
from jarvice_tools.actions import registry as act
from jarvice_tools.insights import JobExplanation, explain_job, wait_for_job
from jarvice_tools.models import JobRef
from jarvice_tools.summaries import JobSummary
from mcp_server import wording
from mcp_server.results import json_result, present, text_result
from mcp_server.runtime import Runtime
from mcp_server.tools import READ_ANNOTATIONS, Generated, build_tool, parse

__all__ = [
    "EXTRA_TOOLSET",
    "WaitOutcome",
    "add_prompts",
    "add_resources",
    "explain_tool",
    "named_tools",
    "wait_tool",
]

EXTRA_TOOLSET = "jobs"
"""The toolset the wait and explain tools belong to."""


class WaitOutcome(BaseModel):
    job: JobSummary
    finished: bool = Field(description="True if the job reached a final state.")
    waited_seconds: float
    message: str


def wait_tool(runtime: Runtime) -> Generated:
    name = "jarvice_wait"
    limit = runtime.config.max_wait
    params = create_model(
        "WaitParams",
        __base__=JobRef,
        timeout_seconds=(
            int,
            Field(
                default=min(300, limit),
                ge=1,
                le=limit,
                description=wording.WAIT_TIMEOUT.format(limit=limit),
            ),
        ),
    )

    async def body(
        ctx: Context, values: dict[str, Any], others: dict[str, Any]
    ) -> CallToolResult:
        checked = parse(params, values, name)
        ref = JobRef(number=checked.number, name=checked.name)
        client = runtime.client_for(runtime.principal())
        timeout = float(checked.timeout_seconds)

        async def progress(summary: JobSummary, elapsed: float) -> None:
            message = wording.wait_progress(summary.number, summary.status, elapsed)
            await ctx.report_progress(min(elapsed, timeout), timeout, message)

        try:
            result = await wait_for_job(
                client,
                ref,
                max_seconds=timeout,
                interval=runtime.config.poll_interval,
                on_poll=progress,
                clock=runtime.monotonic,
            )
        except errors.JarviceError as error:
            raise ToolError(str(error)) from None
        message = wording.wait_outcome(
            result.job.number, result.job.status, result.finished, result.waited_seconds
        )
        outcome = WaitOutcome(
            job=result.job,
            finished=result.finished,
            waited_seconds=result.waited_seconds,
            message=message,
        )
        return json_result(outcome)

    return build_tool(
        name=name,
        title=wording.WAIT_TITLE,
        description=wording.WAIT_DESCRIPTION,
        params=params,
        annotations=READ_ANNOTATIONS,
        output=WaitOutcome,
        body=body,
    )


def explain_tool(runtime: Runtime) -> Generated:
    name = "jarvice_explain"
    most = runtime.config.max_output_lines
    params = create_model(
        "ExplainParams",
        __base__=JobRef,
        lines=(
            int,
            Field(
                default=min(30, most),
                ge=1,
                le=most,
                description=wording.EXPLAIN_LINES,
            ),
        ),
    )

    async def body(
        ctx: Context, values: dict[str, Any], others: dict[str, Any]
    ) -> CallToolResult:
        checked = parse(params, values, name)
        ref = JobRef(number=checked.number, name=checked.name)
        client = runtime.client_for(runtime.principal())
        try:
            explanation = await explain_job(
                client,
                ref,
                lines=checked.lines,
                max_bytes=runtime.config.max_output_bytes,
                now=runtime.now(),
            )
        except errors.JarviceError as error:
            raise ToolError(str(error)) from None
        explanation = _cleaned(explanation)
        data = explanation.model_dump(mode="json", exclude_none=True)
        text = wording.explanation_text(explanation)
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=data
        )

    return build_tool(
        name=name,
        title=wording.EXPLAIN_TITLE,
        description=wording.EXPLAIN_DESCRIPTION,
        params=params,
        annotations=READ_ANNOTATIONS,
        output=JobExplanation,
        body=body,
        untrusted=EXPLAIN_UNTRUSTED,
    )


EXPLAIN_UNTRUSTED = (("BoundedText", "text"), ("Finding", "line"))
"""Where an explanation holds the job's own words."""


def _cleaned(explanation: JobExplanation) -> JobExplanation:
    """The explanation with the job's own words cleaned as framed text is
    (structured content is not framed), and its advice naming MCP tools
    where the tool layer names actions."""
    notes = [wording.tool_names(note) for note in explanation.notes]
    update: dict[str, Any] = {"notes": notes}
    output, diagnosis = explanation.output, explanation.diagnosis
    if output is not None:
        text = wording.clean_untrusted(output.text)
        update["output"] = output.model_copy(update={"text": text})
    if diagnosis is not None:
        findings = [
            finding.model_copy(update={"line": wording.clean_untrusted(finding.line)})
            for finding in diagnosis.findings
        ]
        steps = [wording.tool_names(step) for step in diagnosis.next_steps]
        update["diagnosis"] = diagnosis.model_copy(
            update={"findings": findings, "next_steps": steps}
        )
    return explanation.model_copy(update=update)


def add_resources(server: MCPServer[Any], runtime: Runtime, toolsets: set[str]) -> None:
    """Resources for the enabled toolsets."""
    if "jobs" in toolsets:

        @server.resource(
            "jarvice://jobs/{number}/output",
            name="job-output",
            title="Job output",
            description=wording.OUTPUT_RESOURCE,
            mime_type="text/plain",
        )
        async def job_output(number: str) -> str:
            return await _job_output(runtime, number)

    catalogues = (
        (act.APPS, wording.APPS_RESOURCE),
        (act.MACHINES, wording.MACHINES_RESOURCE),
    )
    for action, description in catalogues:
        if action.toolset in toolsets:
            add = server.resource(
                f"jarvice://{action.name}",
                name=action.name,
                title=action.title,
                description=description,
                mime_type="application/json",
            )
            add(_catalogue_reader(runtime, action))


def _catalogue_reader(
    runtime: Runtime, action: Action[Any, Any]
) -> Callable[[], Awaitable[str]]:
    async def read() -> str:
        return await _catalogue(runtime, action)

    read.__name__ = action.name
    return read


async def _job_output(runtime: Runtime, number: str) -> str:
    client = runtime.client_for(_resource_principal(runtime))
    ref = {"number": number.strip()}
    limits = runtime.limits
    try:
        found, status = (await client.run(act.STATUS, ref)).only()
        if not (status.is_final or status.is_running):
            return wording.NO_OUTPUT_YET.format(number=found, status=status.job_status)
        action = act.OUTPUT if status.is_final else act.TAIL
        lines = limits.max_lines
        text = await client.run(action, {"number": found, "lines": lines})
    except errors.JarviceError as error:
        raise ResourceError(str(error)) from None
    heading = wording.text_heading(action, f"job {found}")
    result = text_result(heading, text, limits, asked=lines, takes_lines=True)
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def _catalogue(runtime: Runtime, action: Any) -> str:
    client = runtime.client_for(_resource_principal(runtime))
    try:
        value = await client.run(action)
    except errors.JarviceError as error:
        raise ResourceError(str(error)) from None
    params = action.parse({})
    result = present(action, params, value, runtime.limits, now=runtime.now())
    return json.dumps(result.structured_content, ensure_ascii=False)


def _resource_principal(runtime: Runtime) -> Any:
    try:
        return runtime.principal()
    except ToolError as error:
        raise ResourceError(str(error)) from None


def diagnose_failed_job(
    number: Annotated[str, Field(description=wording.DIAGNOSE_NUMBER)] = "",
) -> str:
    return wording.diagnose_prompt(number.strip() or None)


def submit_container_job(
    image: Annotated[str, Field(description=wording.SUBMIT_IMAGE)],
    command: Annotated[str, Field(description=wording.SUBMIT_COMMAND)],
    machine: Annotated[str, Field(description=wording.SUBMIT_MACHINE)] = "",
    nodes: Annotated[str, Field(description=wording.SUBMIT_NODES)] = "1",
) -> str:
    return wording.submit_prompt(image, command, machine.strip() or None, nodes)


@dataclass(frozen=True)
class _Prompt:
    render: Callable[..., str]
    title: str
    description: str
    samples: tuple[str, ...]
    """Its text with each kind of argument, for the tools it names."""


_PROMPTS = (
    _Prompt(
        diagnose_failed_job,
        wording.DIAGNOSE_TITLE,
        wording.DIAGNOSE_DESCRIPTION,
        (wording.diagnose_prompt(None), wording.diagnose_prompt("1")),
    ),
    _Prompt(
        submit_container_job,
        wording.SUBMIT_TITLE,
        wording.SUBMIT_DESCRIPTION,
        (
            wording.submit_prompt("image", "command", None, "1"),
            wording.submit_prompt("image", "command", "n0", "1"),
        ),
    ),
)


def add_prompts(server: MCPServer[Any], tools: set[str]) -> None:
    """The prompts whose every named tool is among `tools` (the registered
    ones); the names are read from the prompts' own text."""
    for prompt in _PROMPTS:
        if named_tools(*prompt.samples) <= tools:
            register = server.prompt(
                name=prompt.render.__name__,
                title=prompt.title,
                description=prompt.description,
            )
            register(prompt.render)


_TOOL_NAME = re.compile(r"\bjarvice_[a-z]+\b")


def named_tools(*texts: str) -> set[str]:
    """The tool names mentioned in `texts`."""
    return {name for text in texts for name in _TOOL_NAME.findall(text)}
