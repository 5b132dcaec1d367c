"""Parameters of every action, checked before anything is sent.

Each model is what one endpoint accepts, with every rule the JARVICE docs
state: one of job number or name, `lines` >= 0, signals as numbers, billing
periods and dates, vault sort orders, and so on. Field descriptions are
written for a reader who has never seen the JARVICE docs: the MCP server
shows them to a language model and the Slack app shows them in help.
"""

from __future__ import annotations

import datetime as dt
import re
import signal as signals
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from jarvice_tools.models.base import NO_SPACES, WHOLE_NUMBER, RequestModel
from jarvice_tools.models.jobs import ALL_STATUSES

__all__ = [
    "AUDIT_CATEGORIES",
    "HARMLESS_SIGNALS",
    "ActionParams",
    "AppdefParams",
    "AppsParams",
    "AuditParams",
    "BillingParams",
    "BuildParams",
    "HistoryParams",
    "JobLinesParams",
    "JobRef",
    "JobsParams",
    "MachinesParams",
    "NoParams",
    "PullParams",
    "QueryParams",
    "QueuesParams",
    "ScreenshotParams",
    "SignalParams",
    "ValidateParams",
    "VaultParams",
    "rule_error",
]

AUDIT_CATEGORIES = (
    "apps",
    "dockerpull",
    "ip",
    "job",
    "limit",
    "settings",
    "team",
    "user",
    "vault",
)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def rule_error(field: str, message: str) -> PydanticCustomError:
    """A validation error for a rule between fields, naming the field at fault."""
    return PydanticCustomError("jarvice_rule", message, {"field": field})


class QueryParams(RequestModel):
    """Parameters sent as form fields. Booleans go as `true`/`false`, lists
    comma-separated; a boolean whose JARVICE default is false is left out
    when false, since some endpoints treat mere presence as "yes". An empty
    list or text is left out too: `statuses=` would filter on nothing."""

    def wire(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if _left_out(value, info.default):
                continue
            fields[info.alias or name] = _wire_value(value)
        return fields


def _left_out(value: object, default: object) -> bool:
    """Whether a field stays off the wire: unset, empty, or a false flag."""
    if value is None or (value is False and default is False):
        return True
    return isinstance(value, str | list | tuple) and not value


def _wire_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_wire_value(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _split_list(value: Any) -> Any:
    """Accept "a,b" as well as ["a", "b"]."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class NoParams(QueryParams):
    """An endpoint that needs nothing but the caller's credentials."""


class JobsParams(QueryParams):
    completed: bool = Field(
        default=False,
        description="true: only completed jobs (default: queued and running).",
    )


class JobRef(QueryParams):
    """Names one job, by number or by name."""

    number: Annotated[int | None, WHOLE_NUMBER] = Field(
        default=None, ge=1, description="Job number."
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        pattern=NO_SPACES,
        description="Job name, instead of number.",
    )

    @model_validator(mode="after")
    def _one_job(self) -> JobRef:
        if self.number is None and self.name is None:
            raise rule_error("number", "give the job number (or the job name)")
        if self.number is not None and self.name is not None:
            raise rule_error(
                "name",
                "give either the job number or the job name, not both",
            )
        return self

    def job_reference(self) -> str:
        return f"job {self.number}" if self.number is not None else f"job {self.name}"


_LINES = Field(
    default=None,
    ge=0,
    description="Lines from the end of the output (JARVICE's default is 100; 0: all).",
)


class JobLinesParams(JobRef):
    lines: Annotated[int | None, WHOLE_NUMBER] = _LINES


class ScreenshotParams(JobRef):
    width: int | None = Field(
        default=None, ge=1, le=8192, description="Scale to this width in pixels."
    )
    height: int | None = Field(
        default=None, ge=1, le=8192, description="Scale to this height in pixels."
    )
    emphatic: bool = Field(
        default=False,
        description="true: stretch to width x height, ignoring the aspect ratio.",
    )


HARMLESS_SIGNALS = frozenset({17, 18, 19, 20, 21, 22, 23, 28})
"""Signals whose default action does not end a process: SIGCHLD, SIGCONT,
SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH. Any other signal may
end the job's processes, so sending it needs confirmation."""

_SIGNAL_NUMBERS = {
    member.name: member.value
    for member in signals.Signals
    if member.name.startswith("SIG") and not member.name.startswith("SIG_")
}


class SignalParams(JobRef):
    signal: Annotated[int, WHOLE_NUMBER] = Field(
        default=20,
        ge=1,
        le=64,
        description=(
            "Signal number, e.g. 20 SIGTSTP (default), 18 SIGCONT, 15 SIGTERM, "
            "2 SIGINT, 10 SIGUSR1; all but 17-23 and 28 need confirmation."
        ),
    )

    @field_validator("signal", mode="before")
    @classmethod
    def _signal_number(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip().isdigit():
            name = value.strip().upper()
            name = name if name.startswith("SIG") else f"SIG{name}"
            if name in _SIGNAL_NUMBERS:
                raise PydanticCustomError(
                    "signal_name",
                    "give the signal as a number: {name} is {number}",
                    {"name": name, "number": _SIGNAL_NUMBERS[name]},
                )
            raise PydanticCustomError(
                "signal_number",
                "must be an integer signal number, e.g. 20 (SIGTSTP) or 18 (SIGCONT)",
            )
        return value

    def ends_processes(self) -> bool:
        """Whether this signal's default action ends a process."""
        return self.signal not in HARMLESS_SIGNALS

    def signal_name(self) -> str:
        try:
            return signals.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"


class ActionParams(JobRef):
    action: str = Field(
        min_length=1,
        description="An application-defined action; the info action lists a job's.",
    )


class AppsParams(QueryParams):
    name: str | None = Field(
        default=None,
        min_length=1,
        description="One application id, e.g. jarvice-ubuntu; all if omitted.",
    )
    version: int | None = Field(
        default=None,
        ge=1,
        description="Only apps whose AppDef has this version (JARVICE default 1).",
    )


class AppdefParams(QueryParams):
    name: str = Field(
        min_length=1,
        description="Application id, e.g. jarvice-ubuntu (not its display name).",
    )


class MachinesParams(QueryParams):
    name: str | None = Field(
        default=None,
        min_length=1,
        description="One machine type, e.g. n3; all if omitted.",
    )
    vault: str | None = Field(
        default=None,
        min_length=1,
        description="Only machine types usable with this vault (default: yours).",
    )


class VaultParams(QueryParams):
    SORTS: ClassVar[tuple[str, ...]] = ("n", "s", "m", "N", "S", "M")

    vault: str = Field(min_length=1, description="Vault (storage) name.")
    path: str = Field(
        default="/", min_length=1, description="Directory to list, e.g. /results."
    )
    details: bool = Field(
        default=False,
        description="true: include sizes and modification times (slower).",
    )
    sort: Literal["n", "s", "m", "N", "S", "M"] | None = Field(
        default=None,
        description=(
            "n name (default), s size, m time; upper case reverses. s and m "
            "need details=true."
        ),
    )

    @model_validator(mode="after")
    def _sort_needs_details(self) -> VaultParams:
        if self.sort and self.sort.lower() != "n" and not self.details:
            raise rule_error(
                "sort",
                f"sorting by {'size' if self.sort.lower() == 's' else 'time'} "
                "needs details=true",
            )
        return self


class HistoryParams(QueryParams):
    target: str = Field(
        min_length=1,
        description="Application image, usually the application id.",
    )
    limit: int | None = Field(
        default=None, ge=1, description="At most this many entries (default 100)."
    )
    reltime: bool | None = Field(
        default=None,
        description="false: absolute timestamps, not relative.",
    )


class PullParams(QueryParams):
    repo: str = Field(
        min_length=1,
        pattern=NO_SPACES,
        description="Docker image to pull, as `docker pull` takes it.",
    )
    target: str = Field(
        min_length=1,
        description="Id of the application whose image it replaces (must exist).",
    )


class BuildParams(QueryParams):
    target: str = Field(
        min_length=1,
        description="Id of the application to build an image for (must exist).",
    )
    pull: bool = Field(
        default=False,
        description="true: then pull the built image into the application.",
    )
    abort: bool = Field(
        default=False,
        description="true: abort the running build instead.",
    )


class ValidateParams(RequestModel):
    appdef: dict[str, Any] = Field(
        description="The AppDef (application definition) JSON object.",
    )

    def body(self) -> dict[str, Any]:
        return dict(self.appdef)


class QueuesParams(QueryParams):
    name: str | None = Field(
        default=None, min_length=1, description="One queue; all if omitted."
    )
    info: bool = Field(
        default=False,
        description="true: details per queue (app, machine, node limit).",
    )


class AuditParams(QueryParams):
    quser: str | None = Field(
        default=None,
        min_length=1,
        description="Only events of this user (root for system events).",
    )
    category: (
        Literal[
            "apps",
            "dockerpull",
            "ip",
            "job",
            "limit",
            "settings",
            "team",
            "user",
            "vault",
        ]
        | None
    ) = Field(default=None, description="Only events of this category.")
    resource: str | None = Field(
        default=None, min_length=1, description="Only events about this resource."
    )
    lines: Annotated[int | None, WHOLE_NUMBER] = Field(
        default=None, ge=1, description="At most this many entries."
    )


BillingStatus = Literal[
    "COMPLETED",
    "COMPLETED WITH ERROR",
    "SUBMITTED",
    "PROCESSING STARTING",
    "CANCELED",
    "EXEMPT",
    "SEQUENTIALLY QUEUED",
    "TERMINATED",
]
assert set(get_args(BillingStatus)) == set(ALL_STATUSES)


class BillingParams(QueryParams):
    reportuser: list[str] | None = Field(
        default=None,
        description="Only these users (a team's payer includes the whole team).",
    )
    billingcode: str | None = Field(
        default=None, min_length=1, description="Only this billing code."
    )
    statuses: list[BillingStatus] | None = Field(
        default=None,
        description="Only jobs in these statuses: " + ", ".join(ALL_STATUSES) + ".",
    )
    machtypes: list[str] | None = Field(
        default=None, description="Only these machine types, e.g. n0,n3."
    )
    jobapp: str | None = Field(
        default=None, min_length=1, description="Only this application id."
    )
    itemized: bool = Field(default=False, description="true: one line per job.")
    zone: str | None = Field(
        default=None,
        min_length=1,
        description="Only machines in this zone (deployments with several zones).",
    )
    timeperiod: Literal["last", "current", "range"] | None = Field(
        default=None,
        description=(
            "last = previous month, current = this month, range = from "
            "startdate to enddate."
        ),
    )
    startdate: dt.date | None = Field(
        default=None, description="YYYY-MM-DD; required with timeperiod=range."
    )
    enddate: dt.date | None = Field(
        default=None, description="YYYY-MM-DD; required with timeperiod=range."
    )

    _split = field_validator("reportuser", "statuses", "machtypes", mode="before")(
        _split_list
    )

    @field_validator("startdate", "enddate", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        """Only YYYY-MM-DD (or a date): fromisoformat and lax parsing would
        also take 20260105, 2026-W03-1 or a Unix time."""
        if value is None or (
            isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        ):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise PydanticCustomError(
            "date_format", "must be a date as YYYY-MM-DD, e.g. 2026-11-30"
        )

    @model_validator(mode="after")
    def _period(self) -> BillingParams:
        if self.timeperiod == "range":
            for field in ("startdate", "enddate"):
                if getattr(self, field) is None:
                    raise rule_error(field, "is required when timeperiod=range")
            assert self.startdate is not None
            assert self.enddate is not None
            if self.startdate > self.enddate:
                raise rule_error("enddate", "must not be before startdate")
        elif self.startdate is not None or self.enddate is not None:
            raise rule_error(
                "timeperiod",
                "startdate and enddate apply only with timeperiod=range",
            )
        return self
