"""JARVICE answers as Slack messages: job cards, tables, code blocks.

`render(action, params, result)` turns any JSON or text result into a
`Reply`; PNG and CSV results are files and are uploaded by the caller.
Job cards, status emoji and `run_button` are public so that other modules
(alerts) show jobs the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from jarvice_tools.actions import Action
from jarvice_tools.models import (
    AppCatalog,
    AppDef,
    ConnectInfo,
    JobEntry,
    JobInfo,
    JobList,
    JobsParams,
    JobStatus,
    JobStatusMap,
    MachineCatalog,
    Metrics,
    Projects,
    Queues,
    SignalResult,
    StatusMessage,
    SubmitResult,
    TeamUsers,
    ValidateResult,
    VaultListing,
)
from jarvice_tools.summaries import BoundedText, JobSummary, bound_text
from slack_bot import messages
from slack_bot.blocks import (
    RUN_ACTION_ID,
    SECTION_LIMIT,
    actions,
    code_block,
    context,
    fields_section,
    run_button,
    section,
)
from slack_bot.router import Reply

__all__ = [
    "RUN_ACTION_ID",
    "STATUS_EMOJI",
    "bounded_output",
    "fitting_table",
    "job_blocks",
    "job_line",
    "render",
    "run_button",
    "slack_time",
    "status_emoji",
    "text_reply",
    "text_table",
]

STATUS_EMOJI = {
    "SUBMITTED": ":hourglass_flowing_sand:",
    "SEQUENTIALLY QUEUED": ":hourglass_flowing_sand:",
    "EXEMPT": ":hourglass_flowing_sand:",
    "PROCESSING STARTING": ":arrow_forward:",
    "COMPLETED": ":white_check_mark:",
    "COMPLETED WITH ERROR": ":x:",
    "TERMINATED": ":octagonal_sign:",
    "CANCELED": ":no_entry_sign:",
}
MAX_JOBS = 15
TEXT_LINES = 200
TEXT_BYTES = SECTION_LIMIT - 200
TABLE_ROWS = 40


def status_emoji(status: str) -> str:
    return STATUS_EMOJI.get(status, ":grey_question:")


def slack_time(unix: int | float | None) -> str | None:
    """A time each reader sees in their own time zone (UTC as fallback)."""
    if not unix:
        return None
    fallback = dt.datetime.fromtimestamp(unix, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(unix)}^{{date_short_pretty}} {{time}}|{fallback}>"


def job_line(number: int, job: JobStatus, *, now: float) -> str:
    """One job in one mrkdwn line: emoji, number, name, status, facts."""
    summary = JobSummary.of(number, job, now=now)
    facts = [summary.status.title()]
    if summary.substatus:
        facts.append(summary.substatus)
    if summary.application:
        facts.append(summary.application)
    if summary.machine_type:
        facts.append(f"{summary.machine_type} x {summary.nodes or 1}")
    if summary.run_time:
        facts.append(("ran " if summary.final else "running ") + summary.run_time)
    return f"{status_emoji(summary.status)} *{number}* `{summary.name}`\n" + " · ".join(
        facts
    )


def job_blocks(
    number: int,
    job: JobStatus,
    *,
    now: float,
    entry: JobEntry | None = None,
    buttons: bool = True,
) -> list[dict[str, Any]]:
    """A job card: status with emoji, times, machine x nodes, app, buttons."""
    summary = JobSummary.of(number, entry or job, now=now)
    title = f"{status_emoji(summary.status)} *Job {number}* `{summary.name}`"
    pairs = [
        (
            "Status",
            summary.status + (f" ({summary.substatus})" if summary.substatus else ""),
        )
    ]
    if summary.application:
        command = f" ({summary.command})" if summary.command else ""
        pairs.append(("Application", f"{summary.application}{command}"))
    if summary.machine_type:
        pairs.append(("Machine", f"{summary.machine_type} x {summary.nodes or 1}"))
    for label, unix in (
        ("Submitted", job.job_submit_time),
        ("Started", job.job_start_time),
        ("Ended", job.job_end_time),
    ):
        shown = slack_time(unix)
        if shown:
            pairs.append((label, shown))
    if summary.walltime:
        pairs.append(("Walltime", summary.walltime))
    elif summary.run_time:
        pairs.append(("Running for", summary.run_time))
    if summary.owner:
        pairs.append(("Owner", summary.owner))
    blocks = [section(title), fields_section(pairs)]
    if buttons:
        if summary.final:
            controls = [run_button("Output", f"output {number}")]
        else:
            controls = [
                run_button("Refresh", f"status {number}"),
                run_button("Tail", f"tail {number}"),
                run_button("Metrics", f"metrics {number}"),
            ]
        blocks.append(actions(*controls))
    return blocks


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows as aligned monospace columns (for a code block)."""
    cells = [[str(h) for h in headers]] + [
        ["" if v is None else str(v) for v in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fitting_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    max_chars: int,
    max_rows: int | None = None,
) -> tuple[str, int]:
    """As many whole rows of `text_table` as fit in `max_chars` (and
    `max_rows`): the table and the number of rows it shows."""
    lines = text_table(headers, rows).splitlines()
    kept, size = lines[:2], len(lines[0]) + 1 + len(lines[1])
    for line in lines[2 : 2 + (len(rows) if max_rows is None else max_rows)]:
        if size + 1 + len(line) > max_chars:
            break
        kept.append(line)
        size += 1 + len(line)
    return "\n".join(kept), len(kept) - 2


# Per result type.


def render(
    action: Action[Any, Any],
    params: BaseModel,
    result: Any,
    *,
    now: float | None = None,
) -> Reply:
    """A Reply for a JSON or text result."""
    moment = time.time() if now is None else now
    for kind, renderer in _RENDERERS:
        if isinstance(result, kind):
            return renderer(action, params, result, moment)
    if isinstance(result, str):
        return _text(action, params, result, moment)
    return _raw(action, params, result, moment)


def _jobs(
    action: Action[Any, Any], params: BaseModel, jobs: JobList, now: float
) -> Reply:
    completed = isinstance(params, JobsParams) and params.completed
    if not jobs.root:
        text = messages.NO_COMPLETED_JOBS if completed else messages.NO_ACTIVE_JOBS
        return Reply(text)
    ordered = sorted(jobs.root.items(), key=lambda item: item[0], reverse=True)
    shown = ordered[:MAX_JOBS]
    blocks = [section(job_line(number, job, now=now)) for number, job in shown]
    if len(ordered) > len(shown):
        blocks.append(context(messages.more_jobs(len(shown), len(ordered))))
    text = f"{len(ordered)} {'completed ' if completed else ''}jobs"
    return Reply(text, blocks=blocks)


def _status(
    action: Action[Any, Any], params: BaseModel, statuses: JobStatusMap, now: float
) -> Reply:
    blocks: list[dict[str, Any]] = []
    for number, job in list(statuses.root.items())[:MAX_JOBS]:
        blocks.extend(job_blocks(number, job, now=now))
    first = next(iter(statuses.root.items()), None)
    text = f"Job {first[0]}: {first[1].job_status}" if first else "No job"
    return Reply(text, blocks=blocks)


def bounded_output(text: str) -> BoundedText:
    """The end of a text result, as much as one message shows."""
    return bound_text(text, max_lines=TEXT_LINES, max_bytes=TEXT_BYTES)


def text_reply(
    action: Action[Any, Any], params: BaseModel, output: BoundedText, note: str
) -> Reply:
    """A text result in a code block; `note` says what was left out, if any."""
    job = getattr(params, "job_reference", lambda: None)()
    of = f": {job}" if job else ""
    blocks = [
        section(f"*{action.title}*{of}"),
        code_block(output.text or messages.EMPTY_OUTPUT),
    ]
    if output.truncated:
        blocks.append(context(note))
    return Reply(f"{action.title}{of}", blocks=blocks)


def _text(action: Action[Any, Any], params: BaseModel, text: str, now: float) -> Reply:
    output = bounded_output(text)
    note = messages.output_cut(output.lines_returned, output.lines_total)
    return text_reply(action, params, output, note)


def _metrics(
    action: Action[Any, Any], params: BaseModel, metrics: Metrics, now: float
) -> Reply:
    total = metrics.summary
    what = getattr(params, "job_reference", lambda: None)() or "the job"
    pairs = [
        ("CPU", f"{total.cpu_used:.1f} %"),
        (
            "Memory",
            f"{_gb(total.memory_used)} of {_gb(total.memory_total)} GB "
            f"({total.memory_percent:.0f} %)",
        ),
    ]
    items = metrics.itemized
    rows = [
        (index, f"{cpu:.1f}", _gb(used), _gb(available))
        for index, (cpu, used, available) in enumerate(
            zip(items.cpu_used, items.memory_used, items.memory_total, strict=False)
        )
    ]
    blocks = [section(f"*Metrics* of {what}"), fields_section(pairs)]
    if len(rows) > 1:
        table = text_table(("node", "cpu %", "mem GB", "of GB"), rows[:TABLE_ROWS])
        blocks.append(code_block(table))
    return Reply(f"Metrics of {what}: CPU {total.cpu_used:.1f} %", blocks=blocks)


def _gb(kilobytes: int) -> str:
    return f"{kilobytes / 1024 / 1024:.1f}"


def _machines(
    action: Action[Any, Any], params: BaseModel, catalog: MachineCatalog, now: float
) -> Reply:
    rows = [
        (
            name,
            machine.mc_cores,
            machine.mc_gpus or 0,
            machine.mc_ram,
            _span(machine.mc_scale_min, machine.mc_scale_max),
            "" if machine.mc_price is None else f"{machine.mc_price:g}",
            (machine.mc_description or "")[:40],
        )
        for name, machine in sorted(catalog.root.items())
    ]
    headers = ("type", "cores", "gpus", "ram GB", "nodes", "price/h", "description")
    return _table_reply(f"{len(rows)} machine types", headers, rows)


def _span(low: int | None, high: int | None) -> str:
    if low is None and high is None:
        return ""
    return f"{low or 1}-{high}" if high else f"{low}+"


def _apps(
    action: Action[Any, Any], params: BaseModel, catalog: AppCatalog, now: float
) -> Reply:
    rows = [
        (
            app_id,
            ((app.data.name if app.data else None) or "")[:32],
            "" if app.price is None else f"{app.price:g}",
            ", ".join(sorted(app.data.commands))[:40] if app.data else "",
        )
        for app_id, app in sorted(catalog.root.items())
    ]
    return _table_reply(
        f"{len(rows)} applications", ("id", "name", "price/h", "commands"), rows
    )


def _appdef(
    action: Action[Any, Any], params: BaseModel, appdef: AppDef, now: float
) -> Reply:
    title = appdef.name or getattr(params, "name", "application")
    lines = [f"*{title}*"]
    if appdef.description:
        lines.append(appdef.description[:500])
    blocks = [section("\n".join(lines))]
    for name, command in list(appdef.commands.items())[:10]:
        rows = [
            (
                key,
                spec.type,
                "yes" if spec.required else "",
                "" if spec.value is None else str(spec.value)[:24],
                (spec.name or spec.description or "")[:40],
            )
            for key, spec in command.parameters.items()
        ]
        heading = f"*Command* `{name}`" + (
            f": {command.description[:200]}" if command.description else ""
        )
        blocks.append(section(heading))
        if rows:
            table = text_table(
                ("parameter", "type", "required", "default", "about"), rows[:TABLE_ROWS]
            )
            blocks.append(code_block(table))
    return Reply(f"AppDef of {title}", blocks=blocks)


def _vault(
    action: Action[Any, Any], params: BaseModel, listing: VaultListing, now: float
) -> Reply:
    detailed = bool(getattr(params, "details", False))
    entries = listing.root
    where = f"{getattr(params, 'vault', '')}:{getattr(params, 'path', '/')}"
    if not entries:
        return Reply(f"{where} {messages.EMPTY_LISTING}")
    if detailed:
        rows = [
            (entry.name, entry.size, _iso(entry.mtime))
            for entry in entries[: TABLE_ROWS * 5]
        ]
        body = text_table(("name", "bytes", "modified (UTC)"), rows)
    else:
        body = "\n".join(entry.name for entry in entries)
    bounded = bound_text(body, max_lines=TEXT_LINES, max_bytes=TEXT_BYTES)
    blocks = [section(f"*{where}* ({len(entries)} entries)"), code_block(bounded.text)]
    if bounded.truncated:
        blocks.append(
            context(f"Showing {bounded.lines_returned} lines of the listing.")
        )
    return Reply(f"{where}: {len(entries)} entries", blocks=blocks)


def _iso(unix: int) -> str:
    if not unix:
        return ""
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _submitted(
    action: Action[Any, Any], params: BaseModel, result: SubmitResult, now: float
) -> Reply:
    text = messages.submitted(result.number, result.name)
    blocks = [
        section(text),
        actions(
            run_button("Status", f"status {result.number}"),
            run_button("Tail", f"tail {result.number}"),
        ),
    ]
    return Reply(text, blocks=blocks, detail=f"job {result.number}")


def _status_message(
    action: Action[Any, Any], params: BaseModel, result: StatusMessage, now: float
) -> Reply:
    what = getattr(params, "job_reference", lambda: None)() or action.name
    return Reply(f"{action.title} ({what}): JARVICE says {result.status}")


def _signal(
    action: Action[Any, Any], params: BaseModel, result: SignalResult, now: float
) -> Reply:
    what = getattr(params, "job_reference", lambda: None)() or "the job"
    return Reply(f"Sent signal {result.signal} to process {result.pid} of {what}.")


def _connect(
    action: Action[Any, Any], params: BaseModel, result: ConnectInfo, now: float
) -> Reply:
    what = getattr(params, "job_reference", lambda: None)() or "the job"
    pairs = [("Address", f"`{result.address or '-'}`")]
    if result.password:
        pairs.append(("Password (user nimbix)", f"`{result.password}`"))
    return Reply(
        f"Connection to {what}",
        blocks=[section(f"*Connect* to {what}"), fields_section(pairs)],
    )


def _info(
    action: Action[Any, Any], params: BaseModel, result: JobInfo, now: float
) -> Reply:
    what = getattr(params, "job_reference", lambda: None)() or "the job"
    lines = [f"*Info* for {what}"]
    if result.url:
        lines.append(f"Web: {result.url}")
    if result.about:
        lines.append(result.about[:800])
    if result.actions:
        listed = ", ".join(
            f"`{name}`" + (f" ({item.alt})" if item.alt else "")
            for name, item in result.actions.items()
        )
        lines.append(f"Actions: {listed}")
    return Reply(f"Info for {what}", blocks=[section("\n".join(lines))])


def _teamusers(
    action: Action[Any, Any], params: BaseModel, users: TeamUsers, now: float
) -> Reply:
    rows = [
        (name, user.name or "", user.email or "")
        for name, user in sorted(users.root.items())
    ]
    return _table_reply(f"{len(rows)} team members", ("user", "name", "e-mail"), rows)


def _projects(
    action: Action[Any, Any], params: BaseModel, projects: Projects, now: float
) -> Reply:
    rows = [
        (name, ", ".join(members)[:60])
        for name, members in sorted(projects.root.items())
    ]
    return _table_reply(f"{len(rows)} projects", ("project", "members"), rows)


def _queues(
    action: Action[Any, Any], params: BaseModel, queues: Queues, now: float
) -> Reply:
    if isinstance(queues.root, list):
        return _table_reply(
            f"{len(queues.root)} queues", ("queue",), [(q,) for q in queues.root]
        )
    rows = [
        (name, info.app or "", info.machine or "", info.size or "")
        for name, info in sorted(queues.root.items())
    ]
    return _table_reply(
        f"{len(rows)} queues", ("queue", "app", "machine", "nodes"), rows
    )


def _validate(
    action: Action[Any, Any], params: BaseModel, result: ValidateResult, now: float
) -> Reply:
    verdict = (
        ":white_check_mark: The AppDef is valid."
        if result.valid
        else ":x: The AppDef is not valid."
    )
    return Reply(verdict)


def _raw(action: Action[Any, Any], params: BaseModel, result: Any, now: float) -> Reply:
    data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    text = json.dumps(data, indent=2, default=str)
    bounded = bounded_output(text)
    blocks = [section(f"*{action.title}*"), code_block(bounded.text)]
    if bounded.truncated:
        cut = messages.output_cut(bounded.lines_returned, bounded.lines_total)
        blocks.append(context(cut))
    return Reply(action.title, blocks=blocks)


def _table_reply(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]
) -> Reply:
    if not rows:
        return Reply(f"{title}.")
    table, shown = fitting_table(
        headers, rows, max_chars=TEXT_BYTES, max_rows=TABLE_ROWS
    )
    blocks = [section(f"*{title}*"), code_block(table)]
    if shown < len(rows):
        blocks.append(context(messages.rows_shown(shown, len(rows))))
    return Reply(title, blocks=blocks)


_Renderer = Callable[[Action[Any, Any], BaseModel, Any, float], Reply]
_RENDERERS: tuple[tuple[type, _Renderer], ...] = (
    (JobList, _jobs),
    (JobStatusMap, _status),
    (Metrics, _metrics),
    (MachineCatalog, _machines),
    (AppCatalog, _apps),
    (AppDef, _appdef),
    (VaultListing, _vault),
    (SubmitResult, _submitted),
    (StatusMessage, _status_message),
    (SignalResult, _signal),
    (ConnectInfo, _connect),
    (JobInfo, _info),
    (TeamUsers, _teamusers),
    (Projects, _projects),
    (Queues, _queues),
    (ValidateResult, _validate),
)
