"""The registry: every JARVICE endpoint as one Action, keyed by name.

The MCP server and the Slack app are loops over `ACTIONS`; a new endpoint is
one new entry here and both pick it up.
"""

from __future__ import annotations

import difflib
from types import MappingProxyType
from typing import Any

from jarvice_tools.actions.base import Action, Guard, ResultKind
from jarvice_tools.models import (
    ActionParams,
    AppCatalog,
    AppDef,
    AppdefParams,
    AppsParams,
    AuditParams,
    BatchParams,
    BillingParams,
    BillingReport,
    BuildParams,
    ConnectInfo,
    HistoryParams,
    JobInfo,
    JobLinesParams,
    JobList,
    JobRef,
    JobsParams,
    JobStatusMap,
    MachineCatalog,
    MachinesParams,
    Metrics,
    NoParams,
    Projects,
    PullParams,
    Queues,
    QueuesParams,
    ScreenshotParams,
    SignalParams,
    SignalResult,
    StatusMessage,
    SubmitParams,
    SubmitResult,
    TeamUsers,
    ValidateParams,
    ValidateResult,
    VaultListing,
    VaultParams,
)

__all__ = [
    "ACTIONS",
    "APPDEF",
    "APPS",
    "AUDIT",
    "BATCH",
    "BILLING",
    "BUILD",
    "CONNECT",
    "HISTORY",
    "INFO",
    "JOBS",
    "JOB_ACTION",
    "MACHINES",
    "METRICS",
    "OUTPUT",
    "PROJECTS",
    "PULL",
    "QUEUES",
    "SCREENSHOT",
    "SHUTDOWN",
    "SIGNAL",
    "STATUS",
    "SUBMIT",
    "TAIL",
    "TEAMJOBS",
    "TEAMUSERS",
    "TERMINATE",
    "VALIDATE",
    "VAULT",
    "UnknownAction",
    "get_action",
]

JSON, TEXT, PNG, CSV = ResultKind.JSON, ResultKind.TEXT, ResultKind.PNG, ResultKind.CSV
READ, WRITE, CONFIRM, ADMIN = Guard.READ, Guard.WRITE, Guard.CONFIRM, Guard.ADMIN

# Jobs: list, watch, control.

JOBS = Action(
    name="jobs",
    title="List my jobs",
    summary=(
        "List your queued and running jobs (or, with completed=true, only your "
        "completed ones), newest first."
    ),
    params=JobsParams,
    result=JobList,
    kind=JSON,
    path="/jarvice/jobs",
    guard=READ,
    toolset="jobs",
)
TEAMJOBS = Action(
    name="teamjobs",
    title="List my team's jobs",
    summary=(
        "Like the jobs action, for your whole team (team payers and admins; "
        "others see only their own jobs)."
    ),
    params=JobsParams,
    result=JobList,
    kind=JSON,
    path="/jarvice/teamjobs",
    guard=READ,
    toolset="jobs",
)
STATUS = Action(
    name="status",
    title="Job status",
    summary=(
        "Show one job's status (SUBMITTED, PROCESSING STARTING = running, "
        "COMPLETED, COMPLETED WITH ERROR, TERMINATED, CANCELED) and its times."
    ),
    params=JobRef,
    result=JobStatusMap,
    kind=JSON,
    path="/jarvice/status",
    guard=READ,
    toolset="jobs",
)
METRICS = Action(
    name="metrics",
    title="Job CPU and memory",
    summary=(
        "Show a running job's latest CPU and memory use, per node and in total "
        "(available about a minute after it starts)."
    ),
    params=JobRef,
    result=Metrics,
    kind=JSON,
    path="/jarvice/metrics",
    guard=READ,
    toolset="jobs",
)
OUTPUT = Action(
    name="output",
    title="Completed job's output",
    summary=(
        "Show the last lines of a finished job's output (for a running job, "
        "use the tail action)."
    ),
    params=JobLinesParams,
    result=str,
    kind=TEXT,
    path="/jarvice/output",
    guard=READ,
    toolset="jobs",
)
TAIL = Action(
    name="tail",
    title="Running job's output",
    summary=(
        "Show the last lines of a running job's output (once it has finished, "
        "use the output action)."
    ),
    params=JobLinesParams,
    result=str,
    kind=TEXT,
    path="/jarvice/tail",
    guard=READ,
    toolset="jobs",
)
SCREENSHOT = Action(
    name="screenshot",
    title="Job screenshot",
    summary="Take a PNG screenshot of a running graphical (desktop) job.",
    params=ScreenshotParams,
    result=bytes,
    kind=PNG,
    path="/jarvice/screenshot",
    guard=READ,
    toolset="jobs",
)
CONNECT = Action(
    name="connect",
    title="Connect to an interactive job",
    summary=(
        "Get the network address and the password of the nimbix user of a "
        "running interactive job."
    ),
    params=JobRef,
    result=ConnectInfo,
    kind=JSON,
    path="/jarvice/connect",
    guard=READ,
    toolset="jobs",
)
INFO = Action(
    name="info",
    title="Job info",
    summary=(
        "Show a running job's web URL, its about and help texts, and the "
        "application actions it offers."
    ),
    params=JobRef,
    result=JobInfo,
    kind=JSON,
    path="/jarvice/info",
    guard=READ,
    toolset="jobs",
)
SIGNAL = Action(
    name="signal",
    title="Signal a job",
    summary=(
        "Send a signal to a running job's processes: 20 (SIGTSTP, the default) "
        "suspends, 18 (SIGCONT) resumes; a signal that may end them (e.g. 15, "
        "9) needs confirmation."
    ),
    params=SignalParams,
    result=SignalResult,
    kind=JSON,
    path="/jarvice/signal",
    guard=WRITE,
    toolset="jobs",
    confirm_when=SignalParams.ends_processes,
)
JOB_ACTION = Action(
    name="action",
    title="Run an application action",
    summary=(
        "Run an application-defined action (the info action lists a job's) "
        "inside a running job; what it prints appears in the job's tail."
    ),
    params=ActionParams,
    result=StatusMessage,
    kind=JSON,
    path="/jarvice/action",
    guard=WRITE,
    toolset="jobs",
    deprecated=True,
)
SHUTDOWN = Action(
    name="shutdown",
    title="Shut down a job",
    summary=(
        "Ask a running job (PROCESSING STARTING) to shut down gracefully; its "
        "vault changes are synced back. Needs confirmation."
    ),
    params=JobRef,
    result=StatusMessage,
    kind=JSON,
    path="/jarvice/shutdown",
    guard=CONFIRM,
    toolset="jobs",
)
TERMINATE = Action(
    name="terminate",
    title="Terminate a job",
    summary=(
        "Kill a job at once, whatever its status; unsaved work is lost. For a "
        "running job prefer the shutdown action. Needs confirmation."
    ),
    params=JobRef,
    result=StatusMessage,
    kind=JSON,
    path="/jarvice/terminate",
    guard=CONFIRM,
    toolset="jobs",
)
BATCH = Action(
    name="batch",
    title="Run a container",
    summary=(
        "Submit a job that runs a shell script in a container image on a "
        "machine type; returns the job's name and number."
    ),
    params=BatchParams,
    result=SubmitResult,
    kind=JSON,
    path="/jarvice/batch",
    guard=WRITE,
    toolset="jobs",
    body="json",
)
SUBMIT = Action(
    name="submit",
    title="Run an application",
    summary=(
        "Submit a job that runs an application's command (the appdef action "
        "shows them and their parameters); returns the job's name and number."
    ),
    params=SubmitParams,
    result=SubmitResult,
    kind=JSON,
    path="/jarvice/submit",
    guard=WRITE,
    toolset="jobs",
    body="json",
)
TEAMUSERS = Action(
    name="teamusers",
    title="Team members",
    summary="List the members of your team with e-mail and name (team admins only).",
    params=NoParams,
    result=TeamUsers,
    kind=JSON,
    path="/jarvice/teamusers",
    guard=READ,
    toolset="jobs",
)

# Catalogues: applications and machines.

APPS = Action(
    name="apps",
    title="Applications",
    summary=(
        "List the applications you can run (or one, by id), with their "
        "commands and prices."
    ),
    params=AppsParams,
    result=AppCatalog,
    kind=JSON,
    path="/jarvice/apps",
    guard=READ,
    toolset="apps",
)
APPDEF = Action(
    name="appdef",
    title="Application definition",
    summary=(
        "Show an application's definition (AppDef): its commands with their "
        "parameters, and the machines and vaults it supports."
    ),
    params=AppdefParams,
    result=AppDef,
    kind=JSON,
    path="/jarvice/appdef",
    guard=READ,
    toolset="apps",
)
VALIDATE = Action(
    name="validate",
    title="Validate an AppDef",
    summary="Check an application definition (AppDef JSON) for errors.",
    params=ValidateParams,
    result=ValidateResult,
    kind=JSON,
    path="/jarvice/validate",
    guard=READ,
    toolset="apps",
    body="json",
)
MACHINES = Action(
    name="machines",
    title="Machine types",
    summary=(
        "List the machine types you can run on (or one), with cores, GPUs, "
        "RAM, node limits and price."
    ),
    params=MachinesParams,
    result=MachineCatalog,
    kind=JSON,
    path="/jarvice/machines",
    guard=READ,
    toolset="machines",
)
VAULT = Action(
    name="vault",
    title="Vault files",
    summary=(
        "List the files and directories in one directory of a storage vault "
        "(directories end in /)."
    ),
    params=VaultParams,
    result=VaultListing,
    kind=JSON,
    path="/jarvice/vault",
    guard=READ,
    toolset="vault",
)

# PushToCompute: application images.

HISTORY = Action(
    name="history",
    title="Image build history",
    summary="Show the build and pull history of an application image, newest first.",
    params=HistoryParams,
    result=str,
    kind=TEXT,
    path="/jarvice/history",
    guard=READ,
    toolset="images",
)
PULL = Action(
    name="pull",
    title="Pull an image",
    summary=(
        "Pull a Docker image into an existing application, replacing its "
        "image; runs in the background (the history action shows how it went)."
    ),
    params=PullParams,
    result=StatusMessage,
    kind=JSON,
    path="/jarvice/pull",
    guard=WRITE,
    toolset="images",
)
BUILD = Action(
    name="build",
    title="Build an image",
    summary=(
        "Start (or with abort=true, abort) a build of an application's image. "
        "Needs confirmation."
    ),
    params=BuildParams,
    result=StatusMessage,
    kind=JSON,
    path="/jarvice/build",
    guard=CONFIRM,
    toolset="images",
)

# Administration: JARVICE system admins (billing also team payers).

PROJECTS = Action(
    name="projects",
    title="Projects",
    summary="List every JARVICE project and its members (system admins).",
    params=NoParams,
    result=Projects,
    kind=JSON,
    path="/jarvice/projects",
    guard=ADMIN,
    toolset="admin",
)
BILLING = Action(
    name="billing",
    title="Billing report",
    summary=(
        "Produce a billing report (CSV) for a month or a date range, "
        "optionally by user, status, machine type or app (system admins)."
    ),
    params=BillingParams,
    result=BillingReport,
    kind=CSV,
    path="/jarvice/billing",
    guard=ADMIN,
    toolset="admin",
)
AUDIT = Action(
    name="audit",
    title="Audit log",
    summary="Read the JARVICE audit log, by user, category or resource (admins).",
    params=AuditParams,
    result=str,
    kind=TEXT,
    path="/jarvice/audit",
    guard=ADMIN,
    toolset="admin",
)
QUEUES = Action(
    name="queues",
    title="Queues",
    summary="List the job queues, optionally with app, machine and node limit.",
    params=QueuesParams,
    result=Queues,
    kind=JSON,
    path="/jarvice/queues",
    guard=ADMIN,
    toolset="admin",
)

_ALL: tuple[Action[Any, Any], ...] = (
    JOBS,
    TEAMJOBS,
    STATUS,
    METRICS,
    OUTPUT,
    TAIL,
    SCREENSHOT,
    CONNECT,
    INFO,
    SIGNAL,
    JOB_ACTION,
    SHUTDOWN,
    TERMINATE,
    BATCH,
    SUBMIT,
    TEAMUSERS,
    APPS,
    APPDEF,
    VALIDATE,
    MACHINES,
    VAULT,
    HISTORY,
    PULL,
    BUILD,
    PROJECTS,
    BILLING,
    AUDIT,
    QUEUES,
)

ACTIONS: MappingProxyType[str, Action[Any, Any]] = MappingProxyType(
    {action.name: action for action in _ALL}
)
"""Every action by name, read-only."""


class UnknownAction(KeyError):
    """No action has this name; `suggestion` is the closest one, if any."""

    def __init__(self, name: str) -> None:
        close = difflib.get_close_matches(name, ACTIONS, n=1, cutoff=0.6)
        self.name = name
        self.suggestion = close[0] if close else None
        hint = f" Did you mean {self.suggestion}?" if self.suggestion else ""
        super().__init__(f"There is no action called {name!r}.{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


def get_action(name: str) -> Action[Any, Any]:
    try:
        return ACTIONS[name]
    except KeyError:
        raise UnknownAction(name) from None
