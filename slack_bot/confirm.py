"""Confirm cards for terminate, shutdown and build.

Asking fetches a preview from JARVICE (reads only), records a pending
confirmation in the store and shows a card with Confirm and Cancel. The
click is authorised again from scratch: the pending confirmation must be
the clicker's own, unexpired and undecided (one conditional UPDATE in the
store, so a second click, on this replica or another, does nothing); the
action then runs with the clicker's current credentials, which must still
be the JARVICE user who asked. Nothing reaches JARVICE but reads before
the click.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from jarvice_tools.actions import Action, get_action
from jarvice_tools.errors import InvalidParameters, JarviceError
from jarvice_tools.guards import (
    CONFIRMATION_TTL,
    ConfirmationPreview,
    confirm,
    format_duration,
)
from slack_bot import messages
from slack_bot.blocks import actions, button, context, fields_section, section
from slack_bot.router import CommandContext, Reply
from slack_bot.store import AuditEntry, PendingConfirmation, Verdict

if TYPE_CHECKING:
    from slack_bot.bot import SlackBot

__all__ = ["CANCEL_ACTION_ID", "CONFIRM_ACTION_ID", "ask", "confirm_card", "on_click"]

logger = logging.getLogger("slack_bot")

CONFIRM_ACTION_ID = "jarvice_confirm"
CANCEL_ACTION_ID = "jarvice_cancel"


async def ask(
    ctx: CommandContext, action: Action[Any, Any], params: BaseModel
) -> Reply:
    """Show what `action` would do and wait for the asker's click."""
    caller = ctx.caller
    assert caller is not None
    preview = await ctx.need_jarvice().preview(action, params)
    pending = await ctx.bot.store.confirmations.create(
        slack_user_id=ctx.user_id,
        slack_team_id=ctx.team_id,
        channel_id=ctx.channel_id,
        jarvice_username=caller.username,
        action=action.name,
        arguments=params.model_dump(mode="json", exclude_none=True),
        fingerprint=preview.fingerprint,
        summary=preview.summary,
        ttl=CONFIRMATION_TTL,
    )
    return Reply(
        preview.summary,
        blocks=confirm_card(preview, pending.id),
        outcome="confirm-asked",
        detail=preview.summary[:300],
    )


def confirm_card(preview: ConfirmationPreview, card_id: str) -> list[dict[str, Any]]:
    """The card: what will happen, the facts, Confirm and Cancel."""
    job = None
    if preview.job_number is not None:
        name = f" (`{preview.job_name}`)" if preview.job_name else ""
        job = f"{preview.job_number}{name}"
    machine = None
    if preview.machine_type:
        machine = f"{preview.machine_type} x {preview.nodes or 1}"
    ran = format_duration(preview.run_seconds) if preview.run_seconds else None
    pairs = [
        (label, value)
        for label, value in (
            ("Job", job),
            ("Status", preview.job_status),
            ("Running for", ran),
            ("Machine", machine),
            ("Application", preview.application),
            ("Image", preview.target),
        )
        if value
    ]
    blocks: list[dict[str, Any]] = [section(f":warning: *{preview.summary}*")]
    if pairs:
        blocks.append(fields_section(pairs))
    note = preview.consequence
    if preview.warning:
        note += f"\n*Note:* {preview.warning}"
    blocks.append(section(note))
    blocks.append(
        actions(
            button(messages.CONFIRM_BUTTON, CONFIRM_ACTION_ID, card_id, style="danger"),
            button(messages.CANCEL_BUTTON, CANCEL_ACTION_ID, card_id),
            block_id="jarvice_confirm_buttons",
        )
    )
    blocks.append(context(messages.confirm_prompt(int(CONFIRMATION_TTL // 60))))
    return blocks


async def on_click(
    bot: SlackBot,
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    *,
    yes: bool,
) -> None:
    """Listener for the Confirm and Cancel buttons."""
    await ack()
    started = time.perf_counter()
    user_id = str((body.get("user") or {}).get("id", ""))
    card_id = str(((body.get("actions") or [{}])[0]).get("value", ""))
    decision = await bot.store.confirmations.decide(
        card_id, slack_user_id=user_id, confirm=yes
    )
    pending = decision.pending
    if decision.verdict is Verdict.CONFIRMED:
        assert pending is not None
        reply = await _run_confirmed(bot, user_id, pending)
    else:
        reply = _refusal(decision.verdict, pending)
    await bot.send(respond, reply)
    logger.info(
        "%s click by %s on %s -> %s in %.0f ms",
        "confirm" if yes else "cancel",
        user_id,
        pending.action if pending else "unknown card",
        reply.outcome,
        (time.perf_counter() - started) * 1000,
    )
    await bot.record(
        AuditEntry(
            kind="click",
            slack_user_id=user_id,
            slack_team_id=(body.get("team") or {}).get("id"),
            channel_id=(body.get("channel") or {}).get("id"),
            jarvice_username=pending.jarvice_username if pending else None,
            action=pending.action if pending else "(unknown card)",
            arguments=_arguments(pending),
            outcome=reply.outcome,
            detail=reply.detail,
        )
    )


async def _run_confirmed(
    bot: SlackBot, user_id: str, pending: PendingConfirmation
) -> Reply:
    action = get_action(pending.action)
    what = _what(pending)
    caller = await bot.caller(user_id)
    if caller is None:
        return Reply(messages.CONFIRM_UNLINKED, outcome="unlinked")
    if caller.username != pending.jarvice_username:
        return Reply(messages.CONFIRM_RELINKED, outcome="relinked")
    try:
        params = action.parse(pending.arguments)
        confirmation = confirm(
            action.name,
            params,
            username=caller.username,
            confirmed_by=f"slack:{user_id}",
        )
        result = await bot.jarvice.for_caller(caller).run(
            action, params, confirmation=confirmation
        )
    except (InvalidParameters, JarviceError) as error:
        return Reply(
            messages.confirm_failed(action.name, what, str(error)),
            outcome=f"error:{type(error).__name__}",
            detail=str(error)[:300],
            replace_original=True,
        )
    said = getattr(result, "status", None) or "done"
    return Reply(
        messages.confirmed_by(user_id, action.name, what, str(said)),
        outcome="confirmed",
        replace_original=True,
    )


def _refusal(verdict: Verdict, pending: PendingConfirmation | None) -> Reply:
    if verdict is Verdict.CANCELLED:
        assert pending is not None
        text = messages.cancelled(pending.action, _what(pending))
        return Reply(text, outcome="cancelled", replace_original=True)
    if verdict is Verdict.NOT_YOURS:
        assert pending is not None
        return Reply(messages.not_yours(pending.slack_user_id), outcome="not-yours")
    if verdict is Verdict.EXPIRED:
        return Reply(messages.CONFIRM_EXPIRED, outcome="expired", replace_original=True)
    if verdict is Verdict.ALREADY_DECIDED:
        return Reply(messages.CONFIRM_ALREADY_DECIDED, outcome="already-decided")
    return Reply(messages.CONFIRM_UNKNOWN, outcome="unknown-card")


def _what(pending: PendingConfirmation) -> str:
    arguments = pending.arguments
    if "number" in arguments:
        return f"job {arguments['number']}"
    if "name" in arguments:
        return f"job {arguments['name']}"
    return str(arguments.get("target", pending.action))


def _arguments(pending: PendingConfirmation | None) -> str:
    if pending is None:
        return ""
    return " ".join(f"{k}={v}" for k, v in sorted(pending.arguments.items()))
