"""Every action of the tool layer's registry as a `/jarvice` subcommand.

One loop over `ACTIONS`: arguments are parsed from the action's parameter
model before the ack (bad input is answered at once and nothing is sent),
admin actions are gated by SLACK_ADMIN_USERS, confirm actions get a
confirm card, PNG and CSV results are uploaded as files, everything else
is rendered by `slack_bot.render`. `batch` and `submit` without arguments
open forms instead.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from jarvice_tools.actions import ACTIONS, Action, Guard, ResultKind, registry
from jarvice_tools.errors import JarviceError
from jarvice_tools.models import BillingReport, JobRef, JobStatusMap, SubmitResult
from jarvice_tools.models.base import RequestModel
from jarvice_tools.settings import Caller
from slack_bot import confirm, forms, messages, render
from slack_bot.args import ArgumentError, parse_action_arguments, split_words
from slack_bot.router import CommandContext, Reply, Subcommand
from slack_bot.uploads import upload, upload_reply

if TYPE_CHECKING:
    from slack_bot.bot import SlackBot

__all__ = ["announce_submission", "register_actions"]


@dataclass(frozen=True)
class OpenForm:
    """`batch` or `submit <app>` with nothing else: open the form."""

    app: str | None = None
    command: str | None = None


def register_actions(bot: SlackBot) -> None:
    for action in ACTIONS.values():
        bot.router.register(_subcommand(action))


def _subcommand(action: Action[Any, Any]) -> Subcommand:
    notes: list[str] = []
    mark = ""
    if action.guard is Guard.CONFIRM:
        notes.append(messages.NEEDS_CONFIRMATION)
        mark = messages.CONFIRM_MARK
    elif action.may_need_confirmation:
        notes.append(messages.MAY_NEED_CONFIRMATION)
    if action.deprecated:
        notes.append(messages.DEPRECATED)
    prepare: Callable[[str], Any] = partial(parse_action_arguments, action)
    if action is registry.BATCH:
        notes.append(messages.MODAL_HINT_BATCH)
        prepare = _prepare_batch
    elif action is registry.SUBMIT:
        notes.append(messages.MODAL_HINT_SUBMIT)
        prepare = _prepare_submit
    return Subcommand(
        name=action.name,
        usage=action.name,
        summary=action.summary,
        handler=partial(run_action, action),
        group=messages.HELP_GROUPS.get(action.toolset, action.toolset.title()),
        admin=action.guard is Guard.ADMIN,
        prepare=prepare,
        mark=mark,
        params=action.params,
        notes=tuple(notes),
        button=action.guard is Guard.READ,
    )


def _prepare_batch(text: str) -> BaseModel | OpenForm:
    if not text.strip():
        return OpenForm()
    return parse_action_arguments(registry.BATCH, text)


def _prepare_submit(text: str) -> BaseModel | OpenForm:
    words = split_words(text, action="submit")
    if not words.named.keys() - {"command"} and len(words.positional) <= 1:
        if not words.positional:
            raise ArgumentError(
                [_problem("app", messages.SUBMIT_NEEDS_APP)], action="submit"
            )
        return OpenForm(app=words.positional[0], command=words.named.get("command"))
    return parse_action_arguments(registry.SUBMIT, text)


def _problem(field: str, message: str) -> Any:
    from jarvice_tools.errors import FieldProblem

    return FieldProblem(field, message)


async def run_action(action: Action[Any, Any], ctx: CommandContext) -> Reply | None:
    """Run one action for the linked caller and answer."""
    prepared = ctx.prepared
    if isinstance(prepared, OpenForm):
        if action is registry.BATCH:
            return await forms.open_batch(ctx)
        assert prepared.app is not None
        return await forms.open_submit(ctx, prepared.app, prepared.command)
    params: BaseModel = prepared
    if action.needs_confirmation(params):
        return await confirm.ask(ctx, action, params)
    jarvice = ctx.need_jarvice()
    result = await jarvice.run(action, params)
    if action.kind is ResultKind.PNG:
        return await _upload_screenshot(ctx, params, result)
    if action.kind is ResultKind.CSV:
        return await _upload_billing(ctx, result)
    if isinstance(result, JobStatusMap):
        return await _status_card(ctx, result)
    if action.kind is ResultKind.TEXT and isinstance(result, str):
        return await _text_reply(ctx, action, params, result)
    reply = render.render(action, params, result)
    if isinstance(result, SubmitResult):
        assert ctx.caller is not None
        await announce_submission(
            ctx.bot,
            action=action,
            result=result,
            params=params,
            user_id=ctx.user_id,
            team_id=ctx.team_id,
            channel_id=ctx.channel_id,
            caller=ctx.caller,
        )
    return reply


async def _status_card(ctx: CommandContext, statuses: JobStatusMap) -> Reply:
    """The job card, with machine x nodes and owner from the job list (of
    active or of completed jobs: one more call either way); without them if
    the list cannot be had."""
    now = time.time()
    number, job = next(iter(statuses.root.items()))
    try:
        jobs = await ctx.need_jarvice().jobs(completed=job.is_final)
        entry = jobs.root.get(number)
    except JarviceError:
        entry = None
    blocks = render.job_blocks(number, job, now=now, entry=entry)
    return Reply(f"Job {number}: {job.job_status}", blocks=blocks)


async def _text_reply(
    ctx: CommandContext, action: Action[Any, Any], params: BaseModel, text: str
) -> Reply:
    """The end of a text result, and the whole of it as a file in the caller's
    direct messages when a message cannot hold it."""
    output = render.bounded_output(text)
    shown, total = output.lines_returned, output.lines_total
    if not output.truncated:
        return render.text_reply(action, params, output, "")
    job = params.job_reference() if isinstance(params, RequestModel) else None
    title = f"{action.title}: {job}" if job else action.title
    filename = "-".join([action.name, *(job or "").split()[1:]]) + ".txt"
    failed = await upload(ctx, text.encode(), filename, title)
    if failed is None:
        note = messages.output_sent(shown, total)
    else:
        note = messages.output_not_sent(shown, total, failed)
    return render.text_reply(action, params, output, note)


async def _upload_screenshot(
    ctx: CommandContext, params: BaseModel, png: bytes
) -> Reply:
    what = params.job_reference() if isinstance(params, JobRef) else "job"
    number = getattr(params, "number", None) or "job"
    title = f"Screenshot of {what}"
    return await upload_reply(ctx, png, f"screenshot-{number}.png", title)


async def _upload_billing(ctx: CommandContext, report: BillingReport) -> Reply:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    title = f"JARVICE billing report ({len(report.rows)} rows)"
    content = report.csv_text.encode()
    return await upload_reply(ctx, content, f"jarvice-billing-{stamp}.csv", title)


async def announce_submission(
    bot: SlackBot,
    *,
    action: Action[Any, Any],
    result: SubmitResult,
    params: BaseModel,
    user_id: str,
    team_id: str | None,
    channel_id: str | None,
    caller: Caller,
) -> None:
    """Tell the job-submitted hooks (alerts watch the job in its channel)."""
    from slack_bot.bot import JobSubmitted

    await bot.job_submitted(
        JobSubmitted(
            number=result.number,
            name=result.name,
            action=action.name,
            slack_user_id=user_id,
            slack_team_id=team_id,
            channel_id=channel_id,
            jarvice_username=caller.username,
            application=getattr(params, "app", None) or "jarvice-batch",
        )
    )
