"""Small answers of the per-job and image endpoints."""

from __future__ import annotations

from pydantic import Field

from jarvice_tools.models.base import ApiModel

__all__ = [
    "ConnectInfo",
    "InfoAction",
    "JobInfo",
    "Metrics",
    "MetricsItemized",
    "MetricsSummary",
    "SignalResult",
    "StatusMessage",
    "ValidateResult",
]


class StatusMessage(ApiModel):
    """`{"status": ...}`: shutdown, terminate, action, pull and build."""

    status: str


class SignalResult(ApiModel):
    signal: int = Field(description="The signal number sent.")
    pid: int = Field(description="The process that received it.")


class ConnectInfo(ApiModel):
    """How to reach an interactive job: its address and the nimbix password."""

    address: str | None = None
    password: str | None = Field(default=None, repr=False)


class InfoAction(ApiModel):
    alt: str | None = Field(default=None, description="What the action does.")


class JobInfo(ApiModel):
    """/jarvice/info: the job's web URL, about and help texts, and actions."""

    url: str | None = None
    about: str | None = None
    help: str | None = None
    actions: dict[str, InfoAction] | None = None
    address: str | None = None
    password: str | None = Field(default=None, repr=False)


class MetricsItemized(ApiModel):
    """One value per node, in node order."""

    cpu_used: list[float] = Field(default_factory=list, description="Percent.")
    memory_used: list[int] = Field(default_factory=list, description="KB.")
    memory_total: list[int] = Field(default_factory=list, description="KB.")


class MetricsSummary(ApiModel):
    cpu_used: float = Field(description="Average CPU percent across nodes.")
    memory_used: int = Field(description="Sum over nodes, KB.")
    memory_total: int = Field(description="Sum over nodes, KB.")

    @property
    def memory_percent(self) -> float:
        return (
            100.0 * self.memory_used / self.memory_total if self.memory_total else 0.0
        )


class Metrics(ApiModel):
    """/jarvice/metrics: point-in-time CPU and memory use of a job."""

    itemized: MetricsItemized
    summary: MetricsSummary


class ValidateResult(ApiModel):
    valid: bool
