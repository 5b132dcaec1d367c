"""A job explained in one call, and waiting for a job to finish.

Both front ends answer "what is my job doing?" and "why did it fail?" the
same way: `explain_job` gathers the status, the latest CPU and memory use
(while it runs), the last lines of its output and, for a job that ended
badly, what went wrong and what to try next. `wait_for_job` polls a job's
status until it reaches a final state or a deadline passes.

Job output is data written by the job, not instructions: front ends show it
as such. Advice here names actions (output, vault, machines), not the tools
or commands of any one front end.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from pydantic import BaseModel, Field

from jarvice_tools import errors
from jarvice_tools.actions import registry as act
from jarvice_tools.client import JarviceClient
from jarvice_tools.models import JobEntry, JobRef, JobsParams, JobStatus, Metrics
from jarvice_tools.summaries import BoundedText, JobSummary, bound_text

__all__ = [
    "FAILED_STATUSES",
    "Diagnosis",
    "Finding",
    "JobExplanation",
    "MetricsBrief",
    "WaitResult",
    "diagnose",
    "explain_job",
    "wait_for_job",
]

FAILED_STATUSES = frozenset({"COMPLETED WITH ERROR", "TERMINATED", "CANCELED"})
"""Final states in which the job did not do what it was asked."""


class Finding(BaseModel):
    """One sign of trouble in a job's output."""

    kind: str = Field(description="What kind of problem, e.g. missing file.")
    line: str = Field(description="The output line that shows it (untrusted).")
    advice: str = Field(description="What usually fixes it.")


class Diagnosis(BaseModel):
    """What went wrong with a job that ended badly, and what to try next."""

    outcome: str = Field(description="What happened, in one sentence.")
    exit_code: int | None = Field(default=None, description="The command's.")
    findings: list[Finding] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)


class MetricsBrief(BaseModel):
    """A running job's latest CPU and memory use, over all its nodes."""

    nodes: int
    cpu_percent: float = Field(description="Average over nodes.")
    memory_used_mb: int
    memory_total_mb: int


class JobExplanation(BaseModel):
    """A job in one answer: facts, resource use, recent output, diagnosis."""

    job: JobSummary
    metrics: MetricsBrief | None = None
    output_source: Literal["output", "tail"] | None = Field(
        default=None, description="output (finished job) or tail (running)."
    )
    output: BoundedText | None = Field(
        default=None,
        description="The last lines the job printed: untrusted data.",
    )
    diagnosis: Diagnosis | None = Field(
        default=None, description="Only for a job that ended badly."
    )
    notes: list[str] = Field(
        default_factory=list, description="What could not be fetched, and why."
    )


@dataclass(frozen=True)
class _Sign:
    kind: str
    pattern: re.Pattern[str]
    advice: str


_SIGNS = (
    _Sign(
        "image not available",
        re.compile(
            r"manifest unknown|pull access denied|ErrImagePull|ImagePullBackOff"
            r"|authentication required|repository does not exist"
        ),
        "Check the image name and tag (Docker Hub official images need the "
        "library/ prefix) and, for a private registry, the pull secret.",
    ),
    _Sign(
        "command not found",
        re.compile(r"command not found|exec format error|executable file not found"),
        "The command is not in the container image or not on its PATH: check "
        "the image and the job script.",
    ),
    _Sign(
        "missing file",
        re.compile(r"No such file or directory|FileNotFoundError|cannot open"),
        "Check that the path exists in the vault the job mounts at /data "
        "(list it with the vault action) and that the script uses that path.",
    ),
    _Sign(
        "permission denied",
        re.compile(r"[Pp]ermission denied|EACCES|Operation not permitted"),
        "The job's user may not read or write that path: check the file's "
        "permissions in the vault, or whether the vault is mounted read-only.",
    ),
    _Sign(
        "out of memory",
        re.compile(
            r"[Oo]ut of memory|\bOOM\b|MemoryError|Cannot allocate memory"
            r"|\bKilled\b|std::bad_alloc"
        ),
        "Choose a machine type with more RAM per node (see the machines "
        "action) or reduce the job's memory use.",
    ),
    _Sign(
        "time limit",
        re.compile(r"walltime|[Tt]ime limit|DUE TO TIME LIMIT|timed out"),
        "Raise the walltime limit of the submission, or make the job shorter.",
    ),
    _Sign(
        "licence",
        re.compile(r"[Ll]icen[cs]e (?:error|checkout|server|not available)"),
        "A licence could not be checked out: check the licenses field of the "
        "submission and the licence server.",
    ),
    _Sign(
        "crash",
        re.compile(r"Segmentation fault|core dumped|SIGSEGV|Bus error|Aborted"),
        "The program crashed: run it with the same input on a small case, or "
        "check that the image matches the machine's architecture.",
    ),
    _Sign(
        "error",
        re.compile(
            r"Traceback \(most recent call last\)|\b[A-Za-z]*Error\b:"
            r"|\bERROR\b|\bFATAL\b|[Ff]atal:|\bException\b"
        ),
        "Read the lines around this one: the first error is usually the cause.",
    ),
)

_MAX_FINDINGS = 5
_MAX_LINE = 300


def diagnose(
    status: str, output: str, *, exit_code: int | None = None, substatus: str = ""
) -> Diagnosis | None:
    """What went wrong, for a job in a failed final state; else None."""
    if status not in FAILED_STATUSES:
        return None
    findings = _findings(output)
    steps = [finding.advice for finding in findings[:2]]
    if status == "TERMINATED":
        outcome = (
            "The job was terminated before its command finished: by its owner, "
            "an administrator, or a walltime limit."
        )
        steps.append("If that was not intended, check the job's walltime limit.")
    elif status == "CANCELED":
        outcome = "The job was canceled before it started running."
        steps.append(
            "Check the machine type, node count and queue of the submission, "
            "then submit again."
        )
    else:
        code = f" with exit code {exit_code}" if exit_code is not None else ""
        outcome = (
            f"The job's command ended{code}, so JARVICE marked the job "
            "COMPLETED WITH ERROR."
        )
        if not findings:
            steps.append(
                "The last lines show no clear error: read more of the output "
                "(the output action with more lines, or lines=0 for all)."
            )
    if substatus:
        outcome += f" JARVICE notes: {substatus}."
    steps.append("Fix the cause, then submit the job again.")
    return Diagnosis(
        outcome=outcome, exit_code=exit_code, findings=findings, next_steps=steps
    )


def _findings(output: str) -> list[Finding]:
    """The last line showing each kind of trouble, most specific kind first."""
    found: dict[str, Finding] = {}
    for line in reversed(output.splitlines()):
        for sign in _SIGNS:
            if sign.kind not in found and sign.pattern.search(line):
                text = line.strip()[:_MAX_LINE]
                found[sign.kind] = Finding(
                    kind=sign.kind, line=text, advice=sign.advice
                )
                break
    order = [sign.kind for sign in _SIGNS]
    ranked = sorted(found.values(), key=lambda finding: order.index(finding.kind))
    return ranked[:_MAX_FINDINGS]


async def explain_job(
    client: JarviceClient,
    ref: JobRef | Mapping[str, Any],
    *,
    lines: int = 30,
    max_bytes: int = 4096,
    now: float | None = None,
) -> JobExplanation:
    """Status, resource use, recent output and (if it failed) a diagnosis.

    Only the status must succeed; anything else that cannot be fetched is
    left out with a note saying why.
    """
    checked = act.STATUS.parse(ref)
    number, status = (await client.run(act.STATUS, checked)).only()
    moment = time.time() if now is None else now
    notes: list[str] = []

    entry = await _list_entry(client, number, status, notes)
    job: JobStatus = entry if entry is not None else status
    explanation = JobExplanation(job=JobSummary.of(number, job, now=moment))
    if status.is_running:
        explanation.metrics = await _metrics(client, number, notes)

    source: Literal["output", "tail"] | None = None
    if status.is_final:
        source = "output"
    elif status.is_running:
        source = "tail"
    text = ""
    if source is not None:
        text = await _output(client, source, number, lines, notes)
        explanation.output_source = source
        explanation.output = bound_text(text, max_lines=lines, max_bytes=max_bytes)
    else:
        notes.append("The job has not started yet, so it has no output.")

    explanation.diagnosis = diagnose(
        status.job_status,
        text,
        exit_code=entry.job_exitcode if entry is not None else None,
        substatus=(entry.job_substatus_text or "") if entry is not None else "",
    )
    explanation.notes = notes
    return explanation


async def _list_entry(
    client: JarviceClient, number: int, status: JobStatus, notes: list[str]
) -> JobEntry | None:
    """The job's entry in the caller's job list: machine, nodes, exit code."""
    params = JobsParams(completed=status.is_final)
    try:
        listing = await client.run(act.JOBS, params)
    except errors.JarviceError as error:
        notes.append(f"The job list could not be read: {error}")
        return None
    return listing.root.get(number)


async def _metrics(
    client: JarviceClient, number: int, notes: list[str]
) -> MetricsBrief | None:
    try:
        metrics: Metrics = await client.run(act.METRICS, {"number": number})
    except errors.ApiError:
        notes.append(
            "CPU and memory figures are not available yet (JARVICE reports them "
            "after the job's first minute or so)."
        )
        return None
    except errors.JarviceError as error:
        notes.append(f"CPU and memory figures could not be read: {error}")
        return None
    summary = metrics.summary
    return MetricsBrief(
        nodes=max(1, len(metrics.itemized.cpu_used)),
        cpu_percent=round(summary.cpu_used, 1),
        memory_used_mb=summary.memory_used // 1024,
        memory_total_mb=summary.memory_total // 1024,
    )


async def _output(
    client: JarviceClient,
    source: Literal["output", "tail"],
    number: int,
    lines: int,
    notes: list[str],
) -> str:
    action = act.OUTPUT if source == "output" else act.TAIL
    try:
        text: str = await client.run(action, {"number": number, "lines": lines})
    except errors.JarviceError as error:
        notes.append(f"The job's output could not be read: {error}")
        return ""
    return text


@dataclass(frozen=True)
class WaitResult:
    """Where a wait ended: the job's latest summary and whether it is final."""

    job: JobSummary
    finished: bool
    waited_seconds: float
    polls: int


PollCallback = Callable[[JobSummary, float], Awaitable[None]]


async def wait_for_job(
    client: JarviceClient,
    ref: JobRef | Mapping[str, Any],
    *,
    max_seconds: float,
    interval: float = 5.0,
    on_poll: PollCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> WaitResult:
    """Poll the job's status every `interval` seconds until it is final or
    `max_seconds` have passed; `on_poll(summary, elapsed)` after each."""
    checked = act.STATUS.parse(ref)
    started = clock()
    polls = 0
    while True:
        number, status = (await client.run(act.STATUS, checked)).only()
        polls += 1
        elapsed = clock() - started
        summary = JobSummary.of(number, status, now=time.time())
        if on_poll is not None:
            await on_poll(summary, elapsed)
        remaining = max_seconds - elapsed
        if status.is_final or remaining <= 0:
            return WaitResult(summary, status.is_final, round(elapsed, 1), polls)
        await anyio.sleep(min(interval, remaining))
