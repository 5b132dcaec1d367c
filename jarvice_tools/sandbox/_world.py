"""The sandbox's state: accounts, apps, vaults, jobs, history and audit.

All access goes through :attr:`World.lock` (re-entrant): HTTP handlers on
the server's event loop and test-control calls from other threads share it.
"""

from __future__ import annotations

import copy
import random
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import _seed
from ._clock import Clock
from ._jobs import FINAL, RUNNING, STATUSES, Job, walltime
from ._reply import ApiError
from ._script import Node, Plan, plan_interactive, plan_lines, plan_script
from ._seed import Account, AppSeed, VaultSeed

FIRST_JOB_NUMBER = 123001
QUEUE_SECONDS = 5.0
JsonDict = dict[str, Any]


@dataclass(frozen=True)
class JobView:
    """A read-only snapshot of a simulated job, for test assertions."""

    number: int
    name: str
    owner: str
    status: str
    substatus: int
    substatus_text: str
    application: str
    command: str
    machine: str
    nodes: int
    submit_time: int
    start_time: int
    end_time: int
    walltime: str | None
    exitcode: int | None
    label: str
    project: str | None
    output: tuple[str, ...]
    submission: JsonDict = field(repr=False)


@dataclass
class Event:
    """A timed line of PushToCompute history or audit log."""

    time: float
    message: str
    user: str = ""
    category: str = ""
    resource: str = ""
    target: str = ""
    build: int | None = None


@dataclass
class Build:
    number: int
    target: str
    start: float
    end: float
    aborted: bool = False


def month_start(moment: datetime, months_back: int = 0) -> datetime:
    year, month = moment.year, moment.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=UTC)


class World:
    def __init__(self, clock: Clock, *, seed: int = 3) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.clock.reset()
            self.rng = random.Random(self._seed)
            self.accounts = {a.username: a for a in _seed.ACCOUNTS}
            self.apps: dict[str, AppSeed] = {app.id: app for app in _seed.APPS}
            self.app_updated = {a.id: self.now() - a.updated_ago for a in _seed.APPS}
            self.app_repo = {app.id: app.repo for app in _seed.APPS}
            self.vaults = {a.username: _seed.vaults_for(a) for a in _seed.ACCOUNTS}
            self.jobs: dict[int, Job] = {}
            self.next_number = FIRST_JOB_NUMBER
            self.builds: list[Build] = []
            self.history: list[Event] = []
            self.audit: list[Event] = []
            self._seed_events()
            self._seed_jobs()

    def now(self) -> float:
        return self.clock.now()

    # -- seeding -------------------------------------------------------------

    def _seed_events(self) -> None:
        now = self.now()
        for target, ago, message in _seed.HISTORY:
            self.history.append(Event(now - ago, message, target=target))
        for ago, user, category, resource, message in _seed.AUDIT:
            self.audit.append(Event(now - ago, message, user, category, resource))

    def _seed_jobs(self) -> None:
        now = self.now()
        mid_last_month = month_start(datetime.fromtimestamp(now, UTC), 1)
        last_month_ago = int(now - (mid_last_month + timedelta(days=14)).timestamp())
        for spec in sorted(
            _seed.job_seeds(last_month_ago), key=lambda s: -s.submit_ago
        ):
            self._seed_job(spec, now)

    def _seed_job(self, spec: _seed.JobSeed, now: float) -> None:
        account = self.accounts[spec.owner]
        submit = now - spec.submit_ago
        body: JsonDict = {
            "machine": {"type": spec.machine, "nodes": spec.nodes},
            "vault": {"name": account.vault, "readonly": False, "force": False},
            "user": {"username": account.username},
        }
        if spec.app == "jarvice-batch":
            image = "library/python:3.12"
            body["container"] = {"image": image, "jobscript": spec.jobscript}
        else:
            body["app"] = spec.app
            body["application"] = {"command": spec.command, "parameters": {}}
        if spec.label:
            body["job_label"] = spec.label
        job = self.create_job(
            account,
            spec.app,
            spec.command,
            spec.machine,
            spec.nodes,
            body,
            kind="desktop" if spec.app == "jarvice-desktop" else "batch",
            submit_time=submit,
            queue_seconds=spec.queued,
            project=_seed.only_project(account.username),
        )
        if spec.status in FINAL:
            job.status, job.start_time = RUNNING, submit + spec.queued
            job.final_output = list(spec.output)
            job.finish(job.start_time + spec.ran, spec.status, spec.exitcode)
            self.log_audit(submit, spec.owner, "job", job, f"API submit of {job.name}")
            if spec.status == "TERMINATED":
                self.log_audit(job.end_time, spec.owner, "job", job, "API terminate")
        else:
            job.plan = self.plan_for(job, "desktop", {})

    # -- lookups -------------------------------------------------------------

    def authenticate(
        self, username: str | None, apikey: str | None, refusal: str = "Unauthorized"
    ) -> Account:
        """The account with these credentials; 401 ``refusal`` otherwise."""
        missing = [n for n, v in (("username", username), ("apikey", apikey)) if not v]
        if missing:
            raise ApiError(400, f"Required parameter(s) missing: {', '.join(missing)}")
        account = self.accounts.get(username or "")
        if account is None or account.apikey != apikey:
            raise ApiError(401, refusal)
        return account

    def add_account(self, username: str, *, team: str) -> Account:
        if username in self.accounts:
            raise ValueError(f"account {username!r} exists")
        if team not in _seed.TEAMS:
            raise ValueError(f"no team {team!r}; teams: {', '.join(_seed.TEAMS)}")
        apikey = "".join(self.rng.choice("0123456789abcdef") for _ in range(40))
        account = Account(username, apikey, "user", team, f"{username}-home")
        self.accounts[username] = account
        self.vaults[username] = _seed.vaults_for(account)
        return account

    def person(self, username: str) -> _seed.Person:
        """A user's e-mail and name (made up for accounts added at run time)."""
        found = _seed.PEOPLE.get(username)
        return found or _seed.Person(f"{username}@example.invalid", username)

    def team_of(self, account: Account) -> _seed.Team:
        return _seed.TEAMS[account.team]

    def is_team_manager(self, account: Account) -> bool:
        """Team admin or payer of the caller's team, or a system admin."""
        team = self.team_of(account)
        return (
            account.role == "system_admin"
            or account.username in team.admins
            or account.username == team.payer
        )

    def team_members(self, team: str) -> list[str]:
        return [a.username for a in self.accounts.values() if a.team == team]

    def visible_app(self, account: Account | None, app: AppSeed) -> bool:
        if app.public:
            return True
        if account is None:
            return False
        return account.role == "system_admin" or account.username == app.owner

    def app_for(self, account: Account | None, app_id: str) -> AppSeed:
        app = self.apps.get(app_id)
        if app is None or not self.visible_app(account, app):
            raise ApiError(404, "Application Not Found")
        return app

    def vault_of(self, account: Account, name: str | None) -> VaultSeed:
        vaults = self.vaults[account.username]
        if name is None:
            return vaults[0]
        for vault in vaults:
            if vault.name == name:
                return vault
        raise ApiError(400, f"Invalid parameter(s): unknown vault '{name}'")

    def job(self, number: int) -> Job:
        job = self.jobs.get(number)
        if job is None:
            raise KeyError(number)
        job.refresh(self.now())
        return job

    def jobs_of(self, usernames: list[str]) -> list[Job]:
        now = self.now()
        found = [j for j in self.jobs.values() if j.owner in usernames]
        for job in found:
            job.refresh(now)
        return sorted(found, key=lambda j: j.number)

    # -- changes -------------------------------------------------------------

    def _token(self, size: int, alphabet: str) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(size))

    def create_job(
        self,
        account: Account,
        app_id: str,
        command: str,
        machine: str,
        nodes: int,
        submission: JsonDict,
        *,
        kind: str = "batch",
        submit_time: float | None = None,
        queue_seconds: float = QUEUE_SECONDS,
        project: str | None = None,
        walltime_limit: float | None = None,
        geometry: tuple[int, int] = (1280, 800),
        planner: Callable[[Job], Plan] | None = None,
    ) -> Job:
        """A new job, planned by ``planner`` before it is added.

        If planning fails nothing changes: there is no job, no number is used
        up, and the next job gets the name this one would have had.
        """
        names = self.rng.getstate()
        submit = self.now() if submit_time is None else submit_time
        number = self.next_number
        stamp = datetime.fromtimestamp(int(submit), UTC).strftime("%Y%m%d%H%M%S")
        upper = string.ascii_uppercase + string.digits
        lower = string.ascii_lowercase + string.digits
        app_price = self.apps[app_id].price if app_id in self.apps else 0.0
        job = Job(
            number=number,
            name=f"{stamp}-{self._token(5, upper)}-{app_id}-{account.username}_s1",
            owner=account.username,
            payer=self.team_of(account).payer,
            application=app_id,
            command=command,
            machine=machine,
            nodes=nodes,
            submission=submission,
            label=str(submission.get("job_label") or ""),
            project=project,
            submit_time=submit,
            queue_seconds=queue_seconds,
            plan=Plan(duration=10.0),
            kind=kind,
            hostnames=tuple(
                f"jarvice-job-{number}-{self._token(5, lower)}" for _ in range(nodes)
            ),
            address=f"192.0.2.{1 + number % 254}",
            password=self._token(12, string.ascii_letters + string.digits),
            geometry=geometry,
            walltime_limit=walltime_limit,
            price=_seed.MACHINES[machine]["mc_price"] * nodes,
            app_price=app_price * nodes,
        )
        try:
            job.plan = planner(job) if planner is not None else job.plan
        except Exception:
            self.rng.setstate(names)
            raise
        self.next_number += 1
        self.jobs[number] = job
        return job

    def node_of(self, job: Job, image: str) -> Node:
        mc = _seed.MACHINES[job.machine]
        return Node(job.hostnames[0], mc["mc_cores"], mc["mc_gpus"], image)

    def plan_for(self, job: Job, behaviour: str, values: JsonDict) -> Plan:
        """How a job of an app command runs (see AppSeed.behaviour)."""
        node = self.node_of(job, self.app_repo.get(job.application, ""))
        if behaviour == "script":
            return plan_script(str(values.get("command", "")), node)
        if behaviour == "showcase":
            lines = [f"{key} = {value}" for key, value in values.items()]
            return plan_lines([*lines, "Showcase complete."], node, 12.0)
        if behaviour == "desktop":
            ready = [
                "Starting Xfce desktop session on display :1",
                "noVNC listening on port 5902",
                "Desktop ready",
            ]
            return plan_interactive(node, ready)
        if behaviour == "notebook":
            ready = [
                f"[I ServerApp] Jupyter Server is running at https://{job.address}/lab"
            ]
            return plan_interactive(node, ready)
        source = values.get("input") or "/data/input.txt"
        lines = [f"Reading {source}", "Processing 42 records", "Wrote /data/output.txt"]
        return plan_lines(lines, node, 8.0)

    def log_audit(
        self, at: float, user: str, category: str, job: Job | str, message: str
    ) -> None:
        resource = str(job.number) if isinstance(job, Job) else job
        self.audit.append(Event(at, message, user, category, resource))
        self.audit.sort(key=lambda e: e.time)

    # -- views ---------------------------------------------------------------

    def view(self, job: Job) -> JobView:
        now = self.now()
        return JobView(
            number=job.number,
            name=job.name,
            owner=job.owner,
            status=job.status,
            substatus=job.substatus,
            substatus_text=job.substatus_text,
            application=job.application,
            command=job.command,
            machine=job.machine,
            nodes=job.nodes,
            submit_time=int(job.submit_time),
            start_time=int(job.start_time),
            end_time=int(job.end_time),
            walltime=self.walltime_of(job),
            exitcode=job.exitcode,
            label=job.label,
            project=job.project,
            output=tuple(job.visible_lines(now)),
            submission=copy.deepcopy(job.submission),
        )

    @staticmethod
    def walltime_of(job: Job) -> str | None:
        if job.status not in FINAL:
            return None
        if not job.start_time:
            return "00:00:00"
        return walltime(int(job.end_time) - int(job.start_time))

    def force_status(
        self, number: int, status: str, substatus: int | None, when: str = "now"
    ) -> Job:
        if status not in STATUSES:
            raise ValueError(
                f"unknown status {status!r}; use one of: {', '.join(STATUSES)}"
            )
        if when not in ("now", "end"):
            raise ValueError(f"when must be 'now' or 'end', not {when!r}")
        job = self.job(number)
        if when == "now":
            job.force(status, self.now(), substatus)
            return job
        if status not in FINAL or substatus is not None:
            raise ValueError(
                "when='end' takes a final status "
                f"({', '.join(sorted(FINAL))}) and no substatus"
            )
        if job.status in FINAL:
            raise ValueError(f"job {number} has already ended ({job.status})")
        job.end_status = status
        return job
