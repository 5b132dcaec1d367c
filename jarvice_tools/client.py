"""The async JARVICE client: one method per endpoint, one guarded path.

Every call, typed method or `run`, goes through `JarviceClient.run`, which
validates the parameters, applies the action's guard, sends one POST, retries
reads on transient failures, and decodes the answer by kind (JSON into a
model, text, PNG bytes or CSV). A state-changing call is never sent twice once
it may have reached JARVICE.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import ValidationError

from jarvice_tools import errors
from jarvice_tools.actions import registry as act
from jarvice_tools.actions.base import Action, Guard, ResultKind
from jarvice_tools.appdefs import check_submission
from jarvice_tools.errors import FieldProblem
from jarvice_tools.guards import (
    SPENT,
    Confirmation,
    ConfirmationPreview,
    fingerprint,
)
from jarvice_tools.models import (
    AppCatalog,
    AppDef,
    BatchParams,
    BillingReport,
    BuildParams,
    ConnectInfo,
    HistoryParams,
    JobInfo,
    JobList,
    JobRef,
    JobsParams,
    JobStatusMap,
    MachineCatalog,
    Metrics,
    Projects,
    Queues,
    SignalParams,
    SignalResult,
    StatusMessage,
    SubmitParams,
    SubmitResult,
    TeamUsers,
    ValidateResult,
    VaultListing,
)
from jarvice_tools.models.base import RequestModel
from jarvice_tools.redact import install_log_redaction, redact
from jarvice_tools.settings import (
    DEFAULT_API_URL,
    Caller,
    JarviceSettings,
    normalise_api_url,
)

__all__ = ["JarviceClient", "RetryPolicy"]

logger = logging.getLogger("jarvice_tools.client")
install_log_redaction()

P = TypeVar("P", bound=RequestModel)
R = TypeVar("R")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RETRY_STATUSES = frozenset({502, 503, 504})
USER_AGENT = "jarvice-tools/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """How reads are retried: up to `attempts` tries in all, waiting a random
    time up to `base * 2**n` seconds (never more than `cap`) between them."""

    attempts: int = 4
    base: float = 0.25
    cap: float = 4.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts counts the first try: at least 1")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.cap, max(0.0, retry_after))
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


class JarviceClient:
    """An async client for one JARVICE, acting for one caller.

    Use it as an async context manager, or call `aclose()`. `for_caller`
    gives a client for another user sharing the same connection pool.
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        *,
        caller: Caller | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 100,
    ) -> None:
        self.api_url = normalise_api_url(api_url)
        self.caller = caller
        self.retry = retry or RetryPolicy()
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=20
        )
        self._http = httpx.AsyncClient(
            timeout=_timeout(timeout),
            limits=limits,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        self._owner = True

    @classmethod
    def from_settings(
        cls, settings: JarviceSettings | None = None, **kwargs: Any
    ) -> Self:
        """A client from `JARVICE_*` settings (the environment by default)."""
        settings = settings or JarviceSettings()
        caller = settings.caller() if settings.username or settings.apikey else None
        return cls(settings.api_url, caller=caller, timeout=settings.timeout, **kwargs)

    def for_caller(self, caller: Caller) -> JarviceClient:
        """A client acting for `caller`, sharing this one's connections."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.caller = caller
        other._owner = False
        return other

    async def aclose(self) -> None:
        if self._owner:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        who = self.caller.username if self.caller else "nobody"
        return f"<JarviceClient {self.api_url} as {who}>"

    # The one guarded path.

    async def run(
        self,
        action: Action[P, R],
        params: P | Mapping[str, Any] | None = None,
        *,
        confirmation: Confirmation | None = None,
    ) -> R:
        """Run `action`: validate, apply its guard, send, decode.

        Raises `GuardError` for an action that is not the registered one (a
        copy with another guard, say), and `InvalidParameters`,
        `AdminRequired`, `ConfirmationRequired` or `ConfirmationRejected`;
        each before anything is sent.
        """
        _require_registered(action)
        checked = action.parse(params)
        caller = self._require_caller(action)

        if action.guard is Guard.ADMIN and not caller.admin:
            raise errors.AdminRequired(action.name)
        if action.needs_confirmation(checked):
            if confirmation is None:
                raise errors.ConfirmationRequired(await self.preview(action, checked))
            confirmation.check(
                action.name, fingerprint(action.name, checked, caller.username)
            )
            SPENT.spend(confirmation)

        if isinstance(checked, SubmitParams):
            checked = await self._apply_appdef(checked)  # type: ignore[assignment]

        response, tries = await self._send(action, checked, caller)
        return self._decode(action, checked, caller, response, tries=tries)

    async def preview(
        self, action: Action[P, Any], params: P | Mapping[str, Any]
    ) -> ConfirmationPreview:
        """What a human should see before confirming `action` (reads only)."""
        _require_registered(action)
        checked = action.parse(params)
        caller = self._require_caller(action)
        digest = fingerprint(action.name, checked, caller.username)
        if isinstance(checked, BuildParams):
            return await self._build_preview(action.name, checked, digest)
        if isinstance(checked, JobRef):
            return await self._job_preview(action.name, checked, digest)
        raise ValueError(f"{action.name} needs no confirmation preview")

    async def ready(self) -> bool:
        """Whether JARVICE answers its readiness probe (no credentials sent)."""
        try:
            response = await self._http.get(f"{self.api_url}/jarvice/ready")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    # One method per endpoint.

    async def jobs(self, *, completed: bool = False) -> JobList:
        """POST /jarvice/jobs: queued and running jobs (or only completed)."""
        return await self.run(act.JOBS, {"completed": completed})

    async def teamjobs(self, *, completed: bool = False) -> JobList:
        """POST /jarvice/teamjobs: the whole team's jobs."""
        return await self.run(act.TEAMJOBS, {"completed": completed})

    async def status(
        self, number: int | None = None, *, name: str | None = None
    ) -> JobStatusMap:
        """POST /jarvice/status: one job's status, keyed by job number."""
        return await self.run(act.STATUS, {"number": number, "name": name})

    async def metrics(
        self, number: int | None = None, *, name: str | None = None
    ) -> Metrics:
        """POST /jarvice/metrics: CPU and memory per node and in total."""
        return await self.run(act.METRICS, {"number": number, "name": name})

    async def output(
        self,
        number: int | None = None,
        *,
        name: str | None = None,
        lines: int | None = None,
    ) -> str:
        """POST /jarvice/output: the tail (lines=0: all) of a completed job."""
        return await self.run(
            act.OUTPUT, {"number": number, "name": name, "lines": lines}
        )

    async def tail(
        self,
        number: int | None = None,
        *,
        name: str | None = None,
        lines: int | None = None,
    ) -> str:
        """POST /jarvice/tail: the tail (lines=0: all) of a running job."""
        return await self.run(
            act.TAIL, {"number": number, "name": name, "lines": lines}
        )

    async def screenshot(
        self,
        number: int | None = None,
        *,
        name: str | None = None,
        width: int | None = None,
        height: int | None = None,
        emphatic: bool = False,
    ) -> bytes:
        """POST /jarvice/screenshot: PNG bytes of a graphical job's screen."""
        params = {"number": number, "name": name, "width": width, "height": height}
        return await self.run(act.SCREENSHOT, {**params, "emphatic": emphatic})

    async def connect(
        self, number: int | None = None, *, name: str | None = None
    ) -> ConnectInfo:
        """POST /jarvice/connect: address and password of an interactive job."""
        return await self.run(act.CONNECT, {"number": number, "name": name})

    async def info(
        self, number: int | None = None, *, name: str | None = None
    ) -> JobInfo:
        """POST /jarvice/info: URL, about/help and actions of a running job."""
        return await self.run(act.INFO, {"number": number, "name": name})

    async def signal(
        self,
        number: int | None = None,
        *,
        name: str | None = None,
        signal: int = 20,
        confirmation: Confirmation | None = None,
    ) -> SignalResult:
        """POST /jarvice/signal: send a signal (default 20, SIGTSTP); one that
        may end the job's processes needs a confirmation."""
        params = {"number": number, "name": name, "signal": signal}
        return await self.run(act.SIGNAL, params, confirmation=confirmation)

    async def action(
        self, number: int | None = None, *, name: str | None = None, action: str
    ) -> StatusMessage:
        """POST /jarvice/action (deprecated): run an app-defined action."""
        params = {"number": number, "name": name, "action": action}
        return await self.run(act.JOB_ACTION, params)

    async def shutdown(
        self,
        number: int | None = None,
        *,
        name: str | None = None,
        confirmation: Confirmation | None = None,
    ) -> StatusMessage:
        """POST /jarvice/shutdown: graceful stop of a running job (confirm)."""
        params = {"number": number, "name": name}
        return await self.run(act.SHUTDOWN, params, confirmation=confirmation)

    async def terminate(
        self,
        number: int | None = None,
        *,
        name: str | None = None,
        confirmation: Confirmation | None = None,
    ) -> StatusMessage:
        """POST /jarvice/terminate: immediate kill, any status (confirm)."""
        params = {"number": number, "name": name}
        return await self.run(act.TERMINATE, params, confirmation=confirmation)

    async def batch(self, params: BatchParams | Mapping[str, Any]) -> SubmitResult:
        """POST /jarvice/batch: run a container and a script as a job."""
        return await self.run(act.BATCH, params)

    async def submit(self, params: SubmitParams | Mapping[str, Any]) -> SubmitResult:
        """POST /jarvice/submit: run a catalogue application as a job."""
        return await self.run(act.SUBMIT, params)

    async def teamusers(self) -> TeamUsers:
        """POST /jarvice/teamusers: the caller's team members."""
        return await self.run(act.TEAMUSERS)

    async def apps(
        self, *, name: str | None = None, version: int | None = None
    ) -> AppCatalog:
        """POST /jarvice/apps: the application catalogue (or one app)."""
        return await self.run(act.APPS, {"name": name, "version": version})

    async def appdef(self, name: str) -> AppDef:
        """POST /jarvice/appdef: one application's AppDef."""
        return await self.run(act.APPDEF, {"name": name})

    async def validate(self, appdef: Mapping[str, Any]) -> ValidateResult:
        """POST /jarvice/validate: check an AppDef."""
        return await self.run(act.VALIDATE, {"appdef": dict(appdef)})

    async def machines(
        self, *, name: str | None = None, vault: str | None = None
    ) -> MachineCatalog:
        """POST /jarvice/machines: machine types (or one; or per vault)."""
        return await self.run(act.MACHINES, {"name": name, "vault": vault})

    async def vault(
        self,
        vault: str,
        path: str = "/",
        *,
        details: bool = False,
        sort: str | None = None,
    ) -> VaultListing:
        """POST /jarvice/vault: one directory of a vault."""
        params = {"vault": vault, "path": path, "details": details, "sort": sort}
        return await self.run(act.VAULT, params)

    async def history(
        self, target: str, *, limit: int | None = None, reltime: bool | None = None
    ) -> str:
        """POST /jarvice/history: build and pull history, newest first."""
        params = {"target": target, "limit": limit, "reltime": reltime}
        return await self.run(act.HISTORY, params)

    async def pull(self, repo: str, target: str) -> StatusMessage:
        """POST /jarvice/pull: pull a Docker repository into an app image."""
        return await self.run(act.PULL, {"repo": repo, "target": target})

    async def build(
        self,
        target: str,
        *,
        pull: bool = False,
        abort: bool = False,
        confirmation: Confirmation | None = None,
    ) -> StatusMessage:
        """POST /jarvice/build: build (or abort building) an app image (confirm)."""
        params = {"target": target, "pull": pull, "abort": abort}
        return await self.run(act.BUILD, params, confirmation=confirmation)

    async def projects(self) -> Projects:
        """POST /jarvice/projects: every project and its members (admin)."""
        return await self.run(act.PROJECTS)

    async def billing(
        self,
        *,
        timeperiod: str | None = None,
        startdate: dt.date | str | None = None,
        enddate: dt.date | str | None = None,
        reportuser: Sequence[str] | str | None = None,
        statuses: Sequence[str] | str | None = None,
        machtypes: Sequence[str] | str | None = None,
        billingcode: str | None = None,
        jobapp: str | None = None,
        zone: str | None = None,
        itemized: bool = False,
    ) -> BillingReport:
        """POST /jarvice/billing: the billing report as CSV rows (admin)."""
        period = {"timeperiod": timeperiod, "startdate": startdate, "enddate": enddate}
        filters = {
            "reportuser": reportuser,
            "statuses": statuses,
            "machtypes": machtypes,
            "billingcode": billingcode,
            "jobapp": jobapp,
            "zone": zone,
        }
        return await self.run(act.BILLING, {**period, **filters, "itemized": itemized})

    async def audit(
        self,
        *,
        quser: str | None = None,
        category: str | None = None,
        resource: str | None = None,
        lines: int | None = None,
    ) -> str:
        """POST /jarvice/audit: audit log lines (admin)."""
        params = {"quser": quser, "category": category, "resource": resource}
        return await self.run(act.AUDIT, {**params, "lines": lines})

    async def queues(self, *, name: str | None = None, info: bool = False) -> Queues:
        """POST /jarvice/queues: queue names, or details with info=True (admin)."""
        return await self.run(act.QUEUES, {"name": name, "info": info})

    # Sending.

    def _require_caller(self, action: Action[Any, Any]) -> Caller:
        if self.caller is None:
            raise errors.CredentialsMissing(
                f"No JARVICE user is configured, so {action.name} cannot run: set "
                "JARVICE_USERNAME and JARVICE_APIKEY (the API key from the "
                "portal's Account section).",
                action=action.name,
            )
        return self.caller

    def _wire(
        self, action: Action[Any, Any], params: RequestModel, caller: Caller
    ) -> dict[str, Any]:
        """The request body. Submissions carry the credentials as their `user`
        block; validate takes the bare AppDef and no credentials at all."""
        key = caller.credentials.apikey.get_secret_value()
        if action.body == "json":
            body: dict[str, Any] = params.body()  # type: ignore[attr-defined]
            if action is not act.VALIDATE:
                body["user"] = {"username": caller.username, "apikey": key}
            return {"json": body}
        form = params.wire()  # type: ignore[attr-defined]
        return {"data": {"username": caller.username, "apikey": key, **form}}

    async def _send(
        self, action: Action[Any, Any], params: RequestModel, caller: Caller
    ) -> tuple[httpx.Response, int]:
        """The last answer, and how many times the request was sent for it."""
        url = f"{self.api_url}{action.path}"
        request = self._wire(action, params, caller)
        started = time.perf_counter()

        for attempt in range(self.retry.attempts):
            last = attempt == self.retry.attempts - 1
            try:
                response = await self._http.post(url, **request)
            except httpx.TransportError as error:
                if last or not _may_resend(action, error):
                    tries = attempt + 1
                    raise _transport_error(action, params, error, tries) from None
                await self._pause(action, attempt, f"{type(error).__name__}", None)
                continue
            if (
                response.status_code in RETRY_STATUSES
                and action.retry_safe
                and not last
            ):
                retry_after = _retry_after(response)
                await self._pause(
                    action, attempt, str(response.status_code), retry_after
                )
                continue
            break

        elapsed = (time.perf_counter() - started) * 1000
        logger.info(
            "%s %s for %s -> %d in %.0f ms",
            action.name,
            params.job_reference() or "-",
            _logged_user(caller.username, response.status_code),
            response.status_code,
            elapsed,
        )
        return response, attempt + 1

    async def _pause(
        self,
        action: Action[Any, Any],
        attempt: int,
        reason: str,
        retry_after: float | None,
    ) -> None:
        delay = self.retry.delay(attempt, retry_after)
        logger.warning(
            "%s failed (%s); retrying in %.2f s (attempt %d of %d)",
            action.name,
            reason,
            delay,
            attempt + 2,
            self.retry.attempts,
        )
        await asyncio.sleep(delay)

    # Decoding.

    def _decode(
        self,
        action: Action[Any, R],
        params: RequestModel,
        caller: Caller,
        response: httpx.Response,
        *,
        tries: int = 1,
    ) -> R:
        if not response.is_success:
            raise _api_error(action, params, caller, response, retried=tries > 1)
        if action.kind is ResultKind.PNG:
            if not response.content.startswith(PNG_SIGNATURE):
                raise _malformed(action, "the screenshot is not a PNG image")
            return response.content  # type: ignore[return-value]
        if action.kind in (ResultKind.TEXT, ResultKind.CSV):
            if _is_json_error(response):
                raise _api_error(action, params, caller, response)
            if action.kind is ResultKind.CSV:
                return BillingReport.from_csv(response.text)  # type: ignore[return-value]
            return response.text  # type: ignore[return-value]
        return self._decode_json(action, params, caller, response)

    def _decode_json(
        self,
        action: Action[Any, R],
        params: RequestModel,
        caller: Caller,
        response: httpx.Response,
    ) -> R:
        try:
            data = response.json()
        except ValueError:
            raise _malformed(action, "the answer is not valid JSON") from None
        if isinstance(data, dict) and set(data) == {"error"}:
            raise _api_error(action, params, caller, response)
        model = action.result_model
        assert model is not None
        try:
            return model.model_validate(data)  # type: ignore[return-value]
        except ValidationError as error:
            where = ", ".join(
                ".".join(str(p) for p in e["loc"]) or "(top level)"
                for e in error.errors(include_input=False)[:3]
            )
            raise _malformed(action, f"unexpected shape at {where}") from None

    async def _apply_appdef(self, params: SubmitParams) -> SubmitParams:
        """The submission with its parameters checked and typed by the app's
        AppDef (fetched from JARVICE, a read), or `InvalidParameters` naming
        each parameter at fault; the job is not submitted then."""
        not_submitted = "The job was not submitted."
        try:
            appdef = await self.run(act.APPDEF, {"name": params.app})
        except errors.NotFound:
            problem = FieldProblem(
                "app", f"{params.app!r} is not an application you can run (see apps)"
            )
            raise errors.InvalidParameters(
                [problem], action="submit", outcome=not_submitted
            ) from None
        application = params.application
        checked = check_submission(appdef, application.command, application.parameters)
        if checked.problems:
            raise errors.InvalidParameters(
                checked.problems, action="submit", outcome=not_submitted
            )
        typed = application.model_copy(update={"parameters": checked.values})
        return params.model_copy(update={"application": typed})

    # Previews for confirmation.

    async def _job_preview(
        self, action: str, ref: JobRef, digest: str
    ) -> ConfirmationPreview:
        job = JobRef(number=ref.number, name=ref.name)
        number, status = (await self.run(act.STATUS, job)).only()
        entry = None
        if not status.is_final:
            entry = (await self.run(act.JOBS, JobsParams())).root.get(number)

        verb = {"terminate": "Terminate", "shutdown": "Shut down"}.get(action)
        consequence = _CONSEQUENCES.get(action, "")
        if isinstance(ref, SignalParams):
            verb = f"Send {ref.signal_name()} ({ref.signal}) to"
            consequence = _SIGNAL_CONSEQUENCE
        warning = None
        if action in ("shutdown", "signal") and not status.is_running:
            warning = (
                f"{action} only works while a job is PROCESSING STARTING; this "
                f"one is {status.job_status}, so JARVICE will refuse it"
                + (" (terminate stops a job in any state)." if verb else ".")
            )
        elif status.is_final:
            warning = f"the job has already ended ({status.job_status})."
        return ConfirmationPreview(
            action=action,
            fingerprint=digest,
            summary=f"{verb} job {number} ({status.job_status})?",
            consequence=consequence,
            job_number=number,
            job_name=status.job_name,
            job_status=status.job_status,
            run_seconds=status.run_seconds(time.time()),
            started_at=status.job_start_time or None,
            machine_type=entry.machine_type if entry else None,
            nodes=entry.node_count if entry else None,
            application=status.job_application,
            warning=warning,
        )

    async def _build_preview(
        self, action: str, params: BuildParams, digest: str
    ) -> ConfirmationPreview:
        history = await self.run(
            act.HISTORY, HistoryParams(target=params.target, limit=1)
        )
        latest = history.strip().splitlines()[0] if history.strip() else None
        if params.abort:
            summary = f"Abort the running image build of {params.target}?"
            consequence = "The build stops at once; nothing new is started."
        else:
            then = " and then pull it into the application" if params.pull else ""
            summary = f"Build a new image for {params.target}{then}?"
            consequence = (
                "JARVICE builds in the background and notifies you when done; "
                "it refuses if a build of this image is already running."
            )
        return ConfirmationPreview(
            action=action,
            fingerprint=digest,
            summary=summary,
            consequence=consequence,
            target=params.target,
            warning=f"latest history entry: {latest}" if latest else None,
        )


_CONSEQUENCES = {
    "terminate": (
        "JARVICE kills the job at once, whatever its state: unsaved work is "
        "lost and changed vault objects are not copied back."
    ),
    "shutdown": (
        "JARVICE asks the job to power off gracefully; it ends as COMPLETED "
        "and its vault changes are kept."
    ),
}


_SIGNAL_CONSEQUENCE = (
    "Unless the application handles this signal, the job's processes end, "
    "and the job most likely ends with them: unsaved work is lost."
)


def _require_registered(action: Action[Any, Any]) -> None:
    """Guards are read from the action, so only the registry's own objects
    run: a copy (`dataclasses.replace(TERMINATE, guard=Guard.READ)`) or a
    hand-made Action is refused."""
    if act.ACTIONS.get(action.name) is not action:
        raise errors.GuardError(
            f"The {action.name!r} action given is not the one in the registry "
            "(a modified copy or a hand-made Action), so it was refused and "
            "nothing was sent to JARVICE. Run the registered action instead: "
            f"get_action({action.name!r}).",
            action=action.name,
        )


def _timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(timeout, connect=min(timeout, 10.0))


def _may_resend(action: Action[Any, Any], error: httpx.TransportError) -> bool:
    """Reads may always be re-sent; a change only if it never left us."""
    if action.retry_safe:
        return True
    return isinstance(
        error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
    )


def _transport_error(
    action: Action[Any, Any],
    params: RequestModel,
    error: httpx.TransportError,
    tries: int,
) -> errors.TransportError:
    what = _subject(action, params)
    gave_up = "it was retried and gave up" if tries > 1 else "it was not retried"
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return errors.Unreachable(
            f"Could not connect to JARVICE for {action.name} ({type(error).__name__}); "
            "nothing was sent. Check JARVICE_API_URL and the network, then try again.",
            action=action.name,
        )
    if action.changes_state:
        return errors.OutcomeUnknown(
            f"The connection failed after the {what} request was "
            f"sent ({type(error).__name__}), so it may or may not have taken "
            "effect. It was not sent again: check the job list or the job's status "
            "before trying again.",
            action=action.name,
        )
    if isinstance(error, httpx.TimeoutException):
        return errors.Timeout(
            f"JARVICE did not answer {what} in time; {gave_up}. Try again later.",
            action=action.name,
        )
    return errors.TransportError(
        f"The connection to JARVICE failed during {what} "
        f"({type(error).__name__}); {gave_up}. Try again later.",
        action=action.name,
    )


def _is_json_error(response: httpx.Response) -> bool:
    """Whether a text answer is really `{"error": ...}` (older JARVICE
    servers answer some errors with 200)."""
    if "json" not in response.headers.get("Content-Type", ""):
        return False
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and set(data) == {"error"}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return float(value)
    except ValueError:
        return None


def _logged_user(username: str, status: int) -> str:
    """The username as logged: one JARVICE refused that is long enough to be
    an API key (typed into the wrong field) shows only its first two
    characters and its length."""
    if status not in (401, 403) or len(username) < 16:
        return username
    return f"{username[:2]}…({len(username)} chars)"


def _server_message(response: httpx.Response, secret: str) -> str:
    """JARVICE's own words: the JSON `error`, else the text body, shortened."""
    text = response.text.strip()
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        text = data["error"]
    text = " ".join(text.split())[:300] or response.reason_phrase
    return redact(text, secret)


def _api_error(
    action: Action[Any, Any],
    params: RequestModel,
    caller: Caller,
    response: httpx.Response,
    *,
    retried: bool = False,
) -> errors.ApiError:
    code = response.status_code
    said = _server_message(response, caller.credentials.apikey.get_secret_value())
    kind, message = _refusal(action, params, caller.username, code, said, retried)
    error = kind(
        message,
        action=action.name,
        endpoint=action.path,
        status_code=code,
        server_message=said,
    )
    if isinstance(error, errors.RateLimited):
        error.retry_after = _retry_after(response)
    return error


def _subject(action: Action[Any, Any], params: RequestModel) -> str:
    """'status for job 12', or just 'apps' when no job is named."""
    job = params.job_reference()
    return f"{action.name} for {job}" if job else action.name


def _refusal(
    action: Action[Any, Any],
    params: RequestModel,
    user: str,
    code: int,
    said: str,
    retried: bool,
) -> tuple[type[errors.ApiError], str]:
    """The error class and the sentence for an error status (`retried`: the
    request was sent more than once before this answer)."""
    what = _subject(action, params)
    if code == 400:
        return errors.BadRequest, (
            f"JARVICE refused {what} as invalid (400: {said}). Check the "
            "parameters against the action's help."
        )
    if code == 401:
        return errors.Unauthorized, (
            f"JARVICE did not allow {action.name} for user {user} (401: {said}). "
            "Check the username and API key; admin actions also need a JARVICE "
            "administrator account."
        )
    if code == 404:
        return errors.NotFound, _not_found(action, params, user, said)
    if code == 429:
        return errors.RateLimited, (
            f"JARVICE refused {action.name} because a limit was reached (429: "
            f"{said}). Wait, or end another job, then try again."
        )
    if code in (502, 504) and action.changes_state:
        return errors.ServerError, (
            f"A gateway failed during {what} ({code}: {said}); the request may or "
            "may not have taken effect. It was not sent again: check the job "
            "list or the job's status before trying again."
        )
    if code >= 500:
        after = " after retries" if retried else ""
        return errors.ServerError, (
            f"JARVICE failed to handle {what}{after} ({code}: {said}). Try "
            "again in a moment."
        )
    if code < 300:
        return errors.ApiError, (
            f"JARVICE answered {what} with an error instead of a result "
            f"({code}: {said})."
        )
    return errors.ApiError, f"JARVICE answered {what} with {code}: {said}."


_NEEDS_RUNNING = frozenset(
    {"tail", "connect", "info", "screenshot", "signal", "action", "shutdown"}
)


def _not_found(
    action: Action[Any, Any], params: RequestModel, user: str, said: str
) -> str:
    """A 404 in words that fit the action: the job may be missing, or just not
    in the state the action needs, and JARVICE's answer does not say which."""
    job = params.job_reference()
    if job is None:
        return (
            f"JARVICE found nothing matching the {action.name} request for user "
            f"{user} (404: {said}). Check the names given (application, machine, "
            "queue, vault)."
        )
    check = (
        "Check the job number with the jobs action and its state with status; "
        "other users' jobs are not visible."
    )
    if action.name == "metrics":
        return (
            f"JARVICE found no {job} with metrics for user {user} (404: {said}). "
            f"Metrics appear about a minute after a job starts running. {check}"
        )
    if action.name == "output":
        return (
            f"JARVICE found no {job} with output for user {user} (404: {said}). "
            f"Output is there once a job has completed (use tail while it runs). "
            f"{check}"
        )
    if action.name in _NEEDS_RUNNING:
        return (
            f"JARVICE found no {job} running for user {user} (404: {said}). "
            f"{action.name} works only while a job is PROCESSING STARTING. {check}"
        )
    return f"JARVICE found no {job} for user {user} (404: {said}). {check}"


def _malformed(action: Action[Any, Any], detail: str) -> errors.MalformedResponse:
    return errors.MalformedResponse(
        f"JARVICE's answer to {action.name} could not be read: {detail}. If this "
        "persists the server may be a different version; report it with the time "
        "of the call.",
        action=action.name,
    )
