"""Jobs: status strings, the /status and /jobs shapes, submit results."""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from jarvice_tools.errors import MalformedResponse
from jarvice_tools.models.base import ApiModel

__all__ = [
    "ALL_STATUSES",
    "FINAL_STATUSES",
    "QUEUED_STATUSES",
    "RUNNING_STATUS",
    "JobEntry",
    "JobList",
    "JobStats",
    "JobStatus",
    "JobStatusMap",
    "SubmitResult",
    "is_final",
    "is_running",
]

RUNNING_STATUS = "PROCESSING STARTING"
"""The only running state: JARVICE has no RUNNING string."""

FINAL_STATUSES = frozenset(
    {"COMPLETED", "COMPLETED WITH ERROR", "TERMINATED", "CANCELED"}
)
"""A job in one of these states will not change again."""

QUEUED_STATUSES = frozenset({"SUBMITTED", "SEQUENTIALLY QUEUED", "EXEMPT"})

ALL_STATUSES = (
    "COMPLETED",
    "COMPLETED WITH ERROR",
    "SUBMITTED",
    "PROCESSING STARTING",
    "CANCELED",
    "EXEMPT",
    "SEQUENTIALLY QUEUED",
    "TERMINATED",
)
"""The eight status strings JARVICE documents (for billing filters)."""


def is_final(status: str) -> bool:
    """True for a final state; an unknown status is never final."""
    return status in FINAL_STATUSES


def is_running(status: str) -> bool:
    return status == RUNNING_STATUS


class JobStatus(ApiModel):
    """One job as /jarvice/status reports it. Times are Unix seconds, 0 until
    known; the walltime ("HH:MM:SS") is null until the job ends."""

    job_name: str
    job_status: str
    job_substatus: int = 0
    job_submit_time: int = 0
    job_start_time: int = 0
    job_end_time: int = 0
    job_application: str | None = None
    job_command: str | None = None
    job_walltime: str | None = None
    job_project: str | None = None

    @property
    def is_final(self) -> bool:
        return is_final(self.job_status)

    @property
    def is_running(self) -> bool:
        return is_running(self.job_status)

    def run_seconds(self, now: float) -> int:
        """How long the job has run (or ran), in whole seconds; 0 if queued."""
        if not self.job_start_time:
            return 0
        end = self.job_end_time or now
        return max(0, int(end - self.job_start_time))


class JobStats(ApiModel):
    app_cost: float | None = None
    compute_cost: float | None = None
    compute_time: int | None = None
    job_count: int | None = None
    queue_time: int | None = None
    wall_time: int | None = None


class JobEntry(JobStatus):
    """One job as /jarvice/jobs and /jarvice/teamjobs list it."""

    job_number: int | None = None
    job_label: str | None = None
    job_substatus_text: str | None = None
    job_exitcode: int | None = None
    job_owner_username: str | None = None
    job_payer: str | None = None
    job_nodes: str | None = None
    job_address: str | None = None
    job_api_submission: dict[str, Any] | None = None
    job_mc_name: str | None = None
    job_mc_scale: int | None = None
    job_price: float | None = None
    job_app_price: float | None = None
    job_billing_code: int | str | None = None
    job_billed: bool | None = None
    job_after: str | int | None = None
    job_stats: JobStats | None = None

    @property
    def machine_type(self) -> str | None:
        """The machine type, from the entry or from the submission it came from."""
        if self.job_mc_name:
            return self.job_mc_name
        machine = (self.job_api_submission or {}).get("machine") or {}
        value = machine.get("type")
        return str(value) if value else None

    @property
    def node_count(self) -> int | None:
        if self.job_mc_scale:
            return self.job_mc_scale
        machine = (self.job_api_submission or {}).get("machine") or {}
        nodes = str(machine.get("nodes", ""))
        return int(nodes) if nodes.isdigit() else None


class JobStatusMap(RootModel[dict[int, JobStatus]]):
    """The /jarvice/status answer: job number -> status."""

    def only(self) -> tuple[int, JobStatus]:
        """The single job of a per-job status answer; `MalformedResponse`
        (a readable error, as for any answer that cannot be used) if JARVICE
        sent none or several."""
        if len(self.root) != 1:
            raise MalformedResponse(
                f"JARVICE's answer to status held {len(self.root)} jobs where one "
                "was expected. Check the job number with the jobs action; if this "
                "persists, report it with the time of the call.",
                action="status",
            )
        return next(iter(self.root.items()))


class JobList(RootModel[dict[int, JobEntry]]):
    """The /jarvice/jobs and /jarvice/teamjobs answer: job number -> entry."""


class SubmitResult(ApiModel):
    """What /jarvice/submit and /jarvice/batch return: the new job."""

    name: str = Field(description="The job name, e.g. 20230901131135-NNW6B-...")
    number: int = Field(description="The job number.")
