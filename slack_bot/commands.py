"""The app's own subcommands: help, login, logout, whoami, audit-log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING

from slack_bot import forms, messages
from slack_bot.args import ArgumentError, split_words
from slack_bot.blocks import code_block, context, section
from slack_bot.render import fitting_table
from slack_bot.router import CommandContext, Reply, Subcommand
from slack_bot.store import AuditEntry
from slack_bot.uploads import upload

if TYPE_CHECKING:
    from slack_bot.bot import SlackBot

__all__ = ["register_builtins"]

AUDIT_TABLE_CHARS = 2900
"""Characters of the audit table shown in the message (whole rows only)."""


def register_builtins(bot: SlackBot) -> None:
    for subcommand in (
        Subcommand(
            name="help",
            usage="help [action]",
            summary=messages.HELP_SUMMARY,
            handler=_help,
            needs_link=False,
            button=True,
        ),
        Subcommand(
            name="login",
            usage="login",
            summary=messages.LOGIN_SUMMARY,
            handler=forms.open_login,
            needs_link=False,
        ),
        Subcommand(
            name="logout",
            usage="logout",
            summary=messages.LOGOUT_SUMMARY,
            handler=_logout,
            needs_link=False,
        ),
        Subcommand(
            name="whoami",
            usage="whoami",
            summary=messages.WHOAMI_SUMMARY,
            handler=_whoami,
            needs_link=False,
            button=True,
        ),
        Subcommand(
            name="audit-log",
            usage="audit-log [user=U123] [action=terminate] [limit=20]",
            summary=messages.AUDIT_LOG_SUMMARY,
            help=messages.AUDIT_LOG_HELP,
            handler=_audit_log,
            needs_link=False,
            admin=True,
            prepare=_prepare_audit_log,
        ),
    ):
        bot.router.register(subcommand)


async def _help(ctx: CommandContext) -> Reply:
    return ctx.bot.help.reply(ctx.text)


async def _logout(ctx: CommandContext) -> Reply:
    link = await ctx.bot.store.links.get(ctx.user_id)
    if link is None or not await ctx.bot.store.links.remove(ctx.user_id):
        return Reply(messages.NOTHING_TO_UNLINK, outcome="not-linked")
    return Reply(messages.unlinked(link.jarvice_username), outcome="unlinked")


async def _whoami(ctx: CommandContext) -> Reply:
    link = await ctx.bot.store.links.get(ctx.user_id)
    since = link.linked_at.strftime("%Y-%m-%d %H:%M UTC") if link else None
    text = messages.whoami(
        ctx.user_id,
        link.jarvice_username if link else None,
        since,
        ctx.bot.is_admin(ctx.user_id),
    )
    return Reply(text)


def _prepare_audit_log(text: str) -> dict[str, str | int | None]:
    from jarvice_tools.errors import FieldProblem

    words = split_words(text, action="audit-log")
    problems = []
    unknown = set(words.named) - {"user", "action", "limit"}
    problems += [
        FieldProblem(key, "is not a filter; use user, action or limit")
        for key in sorted(unknown)
    ]
    if words.positional:
        problems.append(
            FieldProblem(words.positional[0], "write filters as user=, action=, limit=")
        )
    limit = words.named.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        problems.append(FieldProblem("limit", "must be a whole number from 1 to 100"))
    if problems:
        raise ArgumentError(problems, action="audit-log")
    user = words.named.get("user")
    if user:
        user = user.strip("<>@").split("|", 1)[0]
    return {"user": user, "action": words.named.get("action"), "limit": int(limit)}


async def _audit_log(ctx: CommandContext) -> Reply:
    filters = ctx.prepared
    entries = await ctx.bot.store.audit.recent(
        limit=int(filters["limit"]),
        slack_user_id=filters["user"],
        action=filters["action"],
    )
    if not entries:
        return Reply(messages.AUDIT_EMPTY)
    rows = [
        (
            entry.at.strftime("%m-%d %H:%M:%S"),
            entry.slack_user_id,
            entry.jarvice_username or "-",
            f"{entry.kind}:{entry.action}",
            entry.arguments[:40],
            entry.outcome,
        )
        for entry in entries
    ]
    headers = ("when", "slack", "jarvice", "what", "arguments", "outcome")
    table, shown = fitting_table(headers, rows, max_chars=AUDIT_TABLE_CHARS)
    heading = messages.audit_heading(len(entries))
    blocks = [section(heading), code_block(table)]
    if shown < len(rows):
        failed = await _upload_audit_csv(ctx, entries)
        blocks.append(context(messages.audit_cut(shown, len(rows), failed)))
    return Reply(heading, blocks=blocks)


async def _upload_audit_csv(
    ctx: CommandContext, entries: list[AuditEntry]
) -> str | None:
    """Every entry, every column, as CSV in the admin's direct messages."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_AUDIT_COLUMNS)
    for entry in entries:
        writer.writerow(
            [entry.at.isoformat()] + [getattr(entry, c) for c in _AUDIT_COLUMNS[1:]]
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    filename = f"jarvice-slack-audit-{stamp}.csv"
    title = f"{messages.AUDIT_CSV_TITLE} ({len(entries)} entries)"
    return await upload(ctx, out.getvalue().encode(), filename, title)


_AUDIT_COLUMNS = (
    "at",
    "kind",
    "slack_user_id",
    "slack_team_id",
    "channel_id",
    "jarvice_username",
    "action",
    "arguments",
    "outcome",
    "detail",
)
