"""The client against the live sandbox, endpoint by endpoint: what the
references promise comes back typed, and documented errors become the
documented exceptions."""

from __future__ import annotations

import pytest

from jarvice_tools import JarviceClient, confirm
from jarvice_tools.errors import (
    ApiError,
    BadRequest,
    ConfirmationRequired,
    InvalidParameters,
    NotFound,
    Unauthorized,
)
from jarvice_tools.models import BuildParams, JobRef, SubmitResult
from jarvice_tools.sandbox import SandboxServer
from tests.contract.conftest import caller_for

pytestmark = pytest.mark.anyio

BATCH = {
    "container": {
        "image": "library/ubuntu:jammy",
        "jobscript": "echo hello; sleep 40; echo done",
    },
    "machine": {"type": "n3", "nodes": 2},
    "job_label": "contract",
}


async def start_batch(
    jarvice: JarviceClient, sandbox: SandboxServer, **changes: object
) -> SubmitResult:
    job = await jarvice.batch({**BATCH, **changes})
    sandbox.advance(10)
    return job


async def test_batch_job_runs_through_its_lifecycle(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    job = await jarvice.batch(BATCH)

    number, queued = (await jarvice.status(job.number)).only()
    assert (number, queued.job_status, queued.job_name) == (
        job.number,
        "SUBMITTED",
        job.name,
    )
    assert (queued.job_start_time, queued.job_walltime) == (0, None)

    sandbox.advance(10)
    _, running = (await jarvice.status(name=job.name)).only()
    assert running.is_running
    assert "hello" in await jarvice.tail(job.number)

    sandbox.advance(120)
    _, done = (await jarvice.status(job.number)).only()
    assert done.job_status == "COMPLETED"
    assert done.job_walltime is not None
    assert done.job_end_time >= done.job_start_time > 0
    assert (await jarvice.output(job.number, lines=1)).strip() == "done"


async def test_jobs_lists_active_and_completed_separately(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    job = await start_batch(jarvice, sandbox)

    active = await jarvice.jobs()
    completed = await jarvice.jobs(completed=True)

    entry = active.root[job.number]
    assert (entry.machine_type, entry.node_count, entry.job_label) == (
        "n3",
        2,
        "contract",
    )
    assert entry.job_owner_username == "alice"
    assert job.number not in completed.root
    assert all(j.is_final for j in completed.root.values())
    assert {j.job_status for j in completed.root.values()} >= {"COMPLETED WITH ERROR"}


async def test_teamjobs_shows_the_team_to_its_admin_only(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    job = await start_batch(jarvice, sandbox)
    carol = jarvice.for_caller(caller_for(sandbox, "carol"))
    dave = jarvice.for_caller(caller_for(sandbox, "dave"))

    assert job.number in (await carol.teamjobs()).root
    assert job.number not in (await dave.teamjobs()).root
    with pytest.raises(NotFound):
        await dave.status(job.number)


async def test_metrics_are_missing_at_first_then_per_node(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    job = await start_batch(jarvice, sandbox)

    with pytest.raises(NotFound):
        await jarvice.metrics(job.number)
    sandbox.advance(30)
    metrics = await jarvice.metrics(job.number)

    assert len(metrics.itemized.cpu_used) == 2
    assert metrics.summary.memory_total == sum(metrics.itemized.memory_total)
    assert 0 <= metrics.summary.memory_percent <= 100


async def test_output_is_for_finished_jobs_and_tail_for_running_ones(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    job = await start_batch(jarvice, sandbox)

    with pytest.raises(ApiError) as early:
        await jarvice.output(job.number)
    sandbox.advance(120)
    with pytest.raises(ApiError) as late:
        await jarvice.tail(job.number)

    assert early.value.status_code in (400, 404)
    assert late.value.status_code in (400, 404)
    assert "done" in await jarvice.output(job.number, lines=0)


async def test_signal_suspends_and_resumes(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    job = await start_batch(jarvice, sandbox)

    stopped = await jarvice.signal(job.number)
    entry = (await jarvice.jobs()).root[job.number]
    await jarvice.signal(job.number, signal=18)
    resumed = (await jarvice.jobs()).root[job.number]

    assert stopped.signal == 20
    assert stopped.pid > 0
    assert entry.job_substatus_text == "Suspended by user"
    assert entry.job_substatus != 0
    assert resumed.job_substatus == 0


async def test_interactive_app_connect_info_screenshot_action(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    job = await jarvice.submit(
        {
            "app": "jarvice-desktop",
            "application": {"command": "Desktop", "geometry": "1280x720"},
            "machine": {"type": "n1"},
        }
    )
    sandbox.advance(30)

    connect = await jarvice.connect(job.number)
    info = await jarvice.info(job.number)
    png = await jarvice.screenshot(job.number, width=320)
    action = next(iter(info.actions or {"none": None}))
    requested = await jarvice.action(job.number, action=action)

    assert connect.address
    assert connect.password
    assert info.url
    assert png.startswith(b"\x89PNG")
    assert requested.status == "action requested"


async def test_submit_with_every_parameter_type(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    parameters = {
        "count": 8,
        "ratio": 0.25,
        "threads": 6,
        "verbose": True,
        "solver": "GMRES",
        "title": "contract",
    }
    job = await jarvice.submit(
        {
            "app": "jarvice-params",
            "application": {"command": "run", "parameters": parameters},
            "machine": {"type": "n0"},
        }
    )

    _, status = (await jarvice.status(job.number)).only()
    assert status.job_application == "jarvice-params"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"machine": {"type": "n99"}}, BadRequest),
        ({"machine": {"type": "n0", "nodes": 5000}}, BadRequest),
        ({"job_priority": "highest"}, ApiError),
    ],
    ids=["unknown-machine", "too-many-nodes", "priority-not-allowed"],
)
async def test_jarvice_side_submission_errors(
    jarvice: JarviceClient, changes: dict[str, object], error: type[ApiError]
) -> None:
    with pytest.raises(error):
        await jarvice.batch({**BATCH, **changes})


async def test_submit_checks_the_appdef_before_submitting(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    with pytest.raises(InvalidParameters, match="count: must be from 1 to 64"):
        await jarvice.submit(
            {
                "app": "jarvice-params",
                "application": {"command": "run", "parameters": {"count": 999}},
                "machine": {"type": "n0"},
            }
        )
    with pytest.raises(InvalidParameters, match="not an application you can run"):
        await jarvice.submit(
            {
                "app": "no-such-app",
                "application": {"command": "run"},
                "machine": {"type": "n0"},
            }
        )

    assert {r.endpoint for r in sandbox.requests} == {"appdef"}


async def test_submit_sends_typed_parameters_and_required_defaults(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    await jarvice.submit(
        {
            "app": "jarvice-params",
            "application": {
                "command": "run",
                "parameters": {"ratio": "0.75", "verbose": "true"},
            },
            "machine": {"type": "n0"},
        }
    )

    sent = next(r for r in sandbox.requests if r.endpoint == "submit")
    parameters = sent.body["application"]["parameters"]
    assert parameters["ratio"] == 0.75
    assert parameters["verbose"] is True
    assert parameters["count"] == 4


async def test_shutdown_needs_a_running_job_and_a_confirmation(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    job = await jarvice.batch(BATCH)
    ref = JobRef(number=job.number)

    with pytest.raises(ConfirmationRequired) as asked:
        await jarvice.shutdown(job.number)
    assert asked.value.preview.warning
    with pytest.raises(ApiError, match="Running job is not found"):
        await jarvice.shutdown(
            job.number,
            confirmation=confirm("shutdown", ref, username="alice", confirmed_by="t"),
        )

    sandbox.advance(10)
    result = await jarvice.shutdown(
        job.number,
        confirmation=confirm("shutdown", ref, username="alice", confirmed_by="t"),
    )
    sandbox.advance(10)

    assert result.status == "shutdown requested"
    assert (await jarvice.status(job.number)).only()[1].job_status == "COMPLETED"


async def test_terminate_after_confirmation(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    job = await start_batch(jarvice, sandbox)

    with pytest.raises(ConfirmationRequired) as asked:
        await jarvice.terminate(job.number)
    preview = asked.value.preview
    yes = confirm(
        "terminate", JobRef(number=job.number), username="alice", confirmed_by="t"
    )
    result = await jarvice.terminate(job.number, confirmation=yes)

    assert (preview.machine_type, preview.nodes) == ("n3", 2)
    assert preview.job_status == "PROCESSING STARTING"
    assert result.status == "terminated"
    assert (await jarvice.status(job.number)).only()[1].job_status == "TERMINATED"
    terminates = [r for r in sandbox.requests if r.endpoint == "terminate"]
    assert len(terminates) == 1


async def test_catalogues(jarvice: JarviceClient) -> None:
    apps = await jarvice.apps()
    appdef = await jarvice.appdef("jarvice-params")
    machines = await jarvice.machines()
    one = await jarvice.machines(name="ng4")

    assert {"jarvice-ubuntu", "jarvice-desktop", "jarvice-params"} <= set(apps.root)
    types = {p.type for p in appdef.commands["run"].parameters.values()}
    assert types == {
        "CONST",
        "STR",
        "INT",
        "FLOAT",
        "RANGE",
        "BOOL",
        "selection",
        "FILE",
        "UPLOAD",
    }
    assert {"n0", "n1", "n3", "ng4"} <= set(machines.root)
    assert (one.root["ng4"].mc_gpus or 0) >= 1


async def test_validate(jarvice: JarviceClient) -> None:
    appdef = (await jarvice.apps(name="jarvice-ubuntu")).root["jarvice-ubuntu"].data
    assert appdef is not None

    valid = await jarvice.validate(appdef.model_dump(by_alias=True, exclude_unset=True))

    assert valid.valid is True
    with pytest.raises(BadRequest):
        await jarvice.validate({"name": "incomplete"})


async def test_vault_listing_and_sorting(jarvice: JarviceClient) -> None:
    plain = await jarvice.vault("alice-home")
    by_size = await jarvice.vault("alice-home", details=True, sort="S")

    assert any(entry.is_directory for entry in plain.root)
    assert all(entry.size == 0 for entry in plain.root)
    files = [e.size for e in by_size.root if not e.is_directory]
    assert files == sorted(files, reverse=True)
    assert any(size > 0 for size in files)


async def test_images_history_pull_and_build(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    before = await jarvice.history("alice-myapp")
    pulled = await jarvice.pull("alice/myapp:latest", "alice-myapp")
    build = BuildParams(target="alice-myapp")
    with pytest.raises(ConfirmationRequired):
        await jarvice.build("alice-myapp")
    built = await jarvice.build(
        "alice-myapp",
        confirmation=confirm("build", build, username="alice", confirmed_by="t"),
    )
    with pytest.raises(ApiError):
        await jarvice.build(
            "alice-myapp",
            confirmation=confirm("build", build, username="alice", confirmed_by="t"),
        )

    assert pulled.status
    assert built.status
    after = await jarvice.history("alice-myapp")
    assert len(after.splitlines()) > len(before.splitlines())


async def test_team_users_for_the_team_admin(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    carol = jarvice.for_caller(caller_for(sandbox, "carol"))

    members = await carol.teamusers()

    assert {"alice", "bob"} <= set(members.root)
    with pytest.raises(Unauthorized):
        await jarvice.teamusers()


async def test_admin_reports_for_a_system_admin(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    admin = jarvice.for_caller(caller_for(sandbox, "admin", admin=True))

    projects = await admin.projects()
    report = await admin.billing(timeperiod="current")
    audit = await admin.audit(lines=5)
    queues = await admin.queues()
    detailed = await admin.queues(info=True)

    assert projects.root
    assert report.columns
    assert report.rows
    assert 0 < len(audit.strip().splitlines()) <= 5
    assert isinstance(queues.root, list)
    assert isinstance(detailed.root, dict)


async def test_jarvice_refuses_admin_reports_to_a_user_marked_admin_here(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    pretender = jarvice.for_caller(caller_for(sandbox, "alice", admin=True))

    with pytest.raises(Unauthorized) as caught:
        await pretender.projects()

    assert caught.value.status_code == 401


async def test_wrong_credentials_are_unauthorized(
    jarvice: JarviceClient, sandbox: SandboxServer
) -> None:
    stranger = caller_for(sandbox, "alice").model_copy(
        update={
            "credentials": caller_for(sandbox, "alice").credentials.model_copy(
                update={"username": "bob"}
            )
        }
    )

    with pytest.raises(Unauthorized, match="user bob"):
        await jarvice.for_caller(stranger).jobs()


async def test_a_base_url_with_a_path_prefix(sandbox: SandboxServer) -> None:
    async with JarviceClient(
        f"{sandbox.url}/api/", caller=caller_for(sandbox, "alice")
    ) as prefixed:
        machines = await prefixed.machines(name="n0")

    assert list(machines.root) == ["n0"]
    assert sandbox.requests[-1].endpoint == "machines"
