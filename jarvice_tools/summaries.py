"""Shapes both front ends show: a job in one line of facts, and bounded text.

JARVICE answers are wide (a job entry has some thirty keys) and job output
can be megabytes. The MCP server and the Slack app show the same summary and
cut text the same way, so the two stay consistent.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from jarvice_tools.guards import format_duration
from jarvice_tools.models.jobs import JobEntry, JobStatus

__all__ = ["BoundedText", "JobSummary", "bound_text", "iso_time"]


def iso_time(unix: int | float | None) -> str | None:
    """Unix seconds as an ISO 8601 UTC time; None for 0 (not known yet)."""
    if not unix:
        return None
    moment = dt.datetime.fromtimestamp(unix, tz=dt.UTC)
    return moment.isoformat().replace("+00:00", "Z")


class JobSummary(BaseModel):
    """The facts about a job that matter to a person deciding what to do."""

    number: int = Field(description="Job number.")
    name: str = Field(description="Job name.")
    status: str = Field(
        description=(
            "SUBMITTED (queued), PROCESSING STARTING (running), COMPLETED, "
            "COMPLETED WITH ERROR, TERMINATED or CANCELED."
        )
    )
    final: bool = Field(description="True once the status will not change again.")
    substatus: str | None = Field(default=None, description="e.g. Suspended by user.")
    application: str | None = None
    command: str | None = None
    owner: str | None = None
    label: str | None = None
    machine_type: str | None = None
    nodes: int | None = None
    submitted: str | None = Field(default=None, description="ISO time (UTC).")
    started: str | None = Field(default=None, description="ISO time (UTC).")
    ended: str | None = Field(default=None, description="ISO time (UTC).")
    walltime: str | None = Field(default=None, description="HH:MM:SS once ended.")
    run_time: str | None = Field(default=None, description="How long it has run.")

    @classmethod
    def of(cls, number: int, job: JobStatus, *, now: float) -> JobSummary:
        """Summarise a /status or /jobs answer for one job."""
        entry = job if isinstance(job, JobEntry) else None
        seconds = job.run_seconds(now)
        substatus = entry.job_substatus_text if entry else None
        return cls(
            number=number,
            name=job.job_name,
            status=job.job_status,
            final=job.is_final,
            substatus=substatus or None,
            application=job.job_application,
            command=job.job_command,
            owner=entry.job_owner_username if entry else None,
            label=entry.job_label if entry else None,
            machine_type=entry.machine_type if entry else None,
            nodes=entry.node_count if entry else None,
            submitted=iso_time(job.job_submit_time),
            started=iso_time(job.job_start_time),
            ended=iso_time(job.job_end_time),
            walltime=job.job_walltime,
            run_time=format_duration(seconds) if seconds else None,
        )


class BoundedText(BaseModel):
    """Text cut to a number of lines and bytes, saying what was left out."""

    text: str
    truncated: bool = Field(description="True if lines were left out.")
    lines_returned: int
    lines_total: int = Field(description="Lines in the text as received.")
    note: str | None = Field(
        default=None, description="What was left out and how to get more."
    )


def bound_text(text: str, *, max_lines: int, max_bytes: int) -> BoundedText:
    """The last `max_lines` lines of `text`, within `max_bytes` of UTF-8.

    Keeps the end, where a job's result or error usually is. A single line
    longer than the byte cap is cut from its start.
    """
    lines = text.splitlines()
    kept = lines[-max_lines:] if max_lines > 0 else []
    size = 0
    start = len(kept)
    while start > 0:
        line_size = len(kept[start - 1].encode()) + 1
        if size + line_size > max_bytes:
            break
        size += line_size
        start -= 1
    selected = kept[start:]
    line_cut = not selected and bool(kept)
    if line_cut:
        tail = kept[-1].encode()[-max_bytes:]
        selected = [tail.decode(errors="ignore")]
    truncated = line_cut or len(selected) < len(lines)
    note = None
    if truncated:
        note = (
            f"Showing the last {len(selected)} of {len(lines)} lines "
            f"(limits: {max_lines} lines, {max_bytes} bytes). Ask for more "
            "lines (lines=N, or 0 for all) to see earlier output."
        )
    return BoundedText(
        text="\n".join(selected),
        truncated=truncated,
        lines_returned=len(selected),
        lines_total=len(lines),
        note=note,
    )
