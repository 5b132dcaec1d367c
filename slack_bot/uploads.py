"""Files for the person who asked, in their direct messages with the app.

Billing reports, screenshots, a long audit log and the whole of a job's
output go this way: a channel never sees them, and Slack's size limits on
messages do not apply.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError

from slack_bot import messages
from slack_bot.router import CommandContext, Reply

__all__ = ["upload", "upload_reply"]


async def upload(
    ctx: CommandContext, content: bytes, filename: str, title: str
) -> str | None:
    """Upload a file to the caller privately; None once done, else why not."""
    try:
        await ctx.bot.upload_privately(
            ctx.user_id, content=content, filename=filename, title=title
        )
    except SlackApiError as error:
        return str(error.response.get("error", "error"))
    except SlackClientError as error:
        return type(error).__name__
    return None


async def upload_reply(
    ctx: CommandContext, content: bytes, filename: str, title: str
) -> Reply:
    """Upload a file privately and say where it is (or why it is not)."""
    failed = await upload(ctx, content, filename, title)
    if failed is not None:
        return Reply(messages.upload_failed(title, failed), outcome="error:upload")
    return Reply(messages.uploaded(title), detail=filename)
