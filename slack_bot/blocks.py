"""Block Kit building blocks, as plain dicts, within Slack's size limits."""

from __future__ import annotations

from typing import Any

__all__ = [
    "RUN_ACTION_ID",
    "SECTION_LIMIT",
    "actions",
    "button",
    "code_block",
    "context",
    "divider",
    "fields_section",
    "header",
    "plain",
    "run_button",
    "section",
]

SECTION_LIMIT = 3000
"""Characters in a section's text."""
RUN_ACTION_ID = "jarvice_run"
"""The prefix of the action_id of buttons that run their value as
`/jarvice <value>` for the person who clicks, with that person's own JARVICE
credentials: `jarvice_run:<command>`, unique per command because Slack
refuses a message whose block repeats an action_id."""
_ID_LIMIT = 255
_FIELD_LIMIT = 2000
_HEADER_LIMIT = 150


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def section(text: str, *, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _cut(text or " ", SECTION_LIMIT)},
    }
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields_section(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Up to ten "*label*\\nvalue" fields in two columns."""
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": _cut(f"*{label}*\n{value}", _FIELD_LIMIT)}
            for label, value in pairs[:10]
        ],
    }


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, _HEADER_LIMIT)}


def context(text: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _cut(text, SECTION_LIMIT)}],
    }


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def code_block(text: str) -> dict[str, Any]:
    """Text in a code block; the caller bounds it (see `summaries.bound_text`)."""
    body = text.replace("```", "`\u200b``") or " "
    return section(f"```{_cut(body, SECTION_LIMIT - 8)}```")


def button(
    text: str, action_id: str, value: str, *, style: str | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text),
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def run_button(label: str, command: str, *, style: str | None = None) -> dict[str, Any]:
    """A button that runs `/jarvice <command>` for whoever clicks it."""
    action_id = f"{RUN_ACTION_ID}:{'_'.join(command.split())}"[:_ID_LIMIT]
    return button(label, action_id, command, style=style)
