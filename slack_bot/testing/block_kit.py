"""Block Kit checks the way Slack makes them, so that tests fail where Slack
would answer `invalid_blocks`.

    problems = message_problems(blocks)    # [] when Slack would take them
    problems = view_problems(view)          # a modal

Checked: the number of blocks (50 in a message, 100 in a modal), block_id
length and uniqueness, action_id length and uniqueness within a block and,
stricter than Slack, across a message (a modal's inputs all use the
action_id `value`, each in its own block, so a view is checked per block),
the length limits of texts (sections, fields, headers, context, buttons,
labels, hints, placeholders, options), the number of elements in actions
(25) and context (10) blocks and of options in selects (100) and
checkboxes (10), empty texts, and a modal's title, buttons and private
metadata. Each problem is a sentence naming where it is (`blocks[2]...`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["message_problems", "view_problems"]

MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
ID_LIMIT = 255

Problems = list[str]


def message_problems(blocks: Any) -> Problems:
    """Why Slack would refuse these message blocks ([] if it would not)."""
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    problems = _blocks(blocks, MESSAGE_BLOCKS)
    found = [(f"blocks[{i}]", a) for i, block in _each(blocks) for a in _ids(block)]
    return problems + _unique("action_id", found)


def view_problems(view: Any) -> Problems:
    """Why Slack would refuse this modal ([] if it would not)."""
    if not isinstance(view, dict):
        return ["view must be an object"]
    blocks = view.get("blocks") or []
    problems = _blocks(blocks, MODAL_BLOCKS)
    for index, block in _each(blocks):
        found = [(f"blocks[{index}]", action_id) for action_id in _ids(block)]
        problems += _unique("action_id", found)
    problems += _text("view.title", view.get("title"), 24, required=True)
    for key in ("submit", "close"):
        problems += _text(f"view.{key}", view.get(key), 24)
    if len(str(view.get("private_metadata") or "")) > 3000:
        problems.append("view.private_metadata is longer than 3000 characters")
    if len(str(view.get("callback_id") or "")) > ID_LIMIT:
        problems.append(f"view.callback_id is longer than {ID_LIMIT} characters")
    has_inputs = any(b.get("type") == "input" for _, b in _each(blocks))
    if has_inputs and not view.get("submit"):
        problems.append("view has input blocks but no submit button")
    return problems


# Blocks.


def _blocks(blocks: list[Any], limit: int) -> Problems:
    problems: Problems = []
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks; at most {limit} are allowed")
    block_ids = []
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(block, dict):
            problems.append(f"{where} is not an object")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            block_ids.append((where, block_id))
            if len(str(block_id)) > ID_LIMIT:
                problems.append(f"{where}.block_id is longer than {ID_LIMIT}")
        check = _BLOCK_CHECKS.get(str(block.get("type")))
        if check is None:
            problems.append(f"{where} has an unknown type {block.get('type')!r}")
            continue
        problems += check(where, block)
    return problems + _unique("block_id", block_ids)


def _section(where: str, block: dict[str, Any]) -> Problems:
    problems: Problems = []
    fields = block.get("fields")
    if block.get("text") is None and not fields:
        problems.append(f"{where} needs a text or fields")
    problems += _text(f"{where}.text", block.get("text"), 3000)
    if fields is not None:
        if len(fields) > 10:
            problems.append(f"{where}.fields has {len(fields)} items; at most 10")
        for index, field in enumerate(fields):
            problems += _text(f"{where}.fields[{index}]", field, 2000, required=True)
    accessory = block.get("accessory")
    if accessory is not None:
        problems += _element(f"{where}.accessory", accessory)
    return problems


def _header(where: str, block: dict[str, Any]) -> Problems:
    return _text(f"{where}.text", block.get("text"), 150, required=True, plain=True)


def _context(where: str, block: dict[str, Any]) -> Problems:
    elements = block.get("elements") or []
    problems = _count(f"{where}.elements", elements, 1, 10)
    for index, element in enumerate(elements):
        if element.get("type") in ("mrkdwn", "plain_text"):
            problems += _text(f"{where}.elements[{index}]", element, 3000)
    return problems


def _actions(where: str, block: dict[str, Any]) -> Problems:
    elements = block.get("elements") or []
    problems = _count(f"{where}.elements", elements, 1, 25)
    for index, element in enumerate(elements):
        problems += _element(f"{where}.elements[{index}]", element)
    return problems


def _input(where: str, block: dict[str, Any]) -> Problems:
    problems = _text(f"{where}.label", block.get("label"), 2000, required=True)
    problems += _text(f"{where}.hint", block.get("hint"), 2000)
    element = block.get("element")
    if not isinstance(element, dict):
        return [*problems, f"{where} needs an element"]
    return problems + _element(f"{where}.element", element)


def _nothing(where: str, block: dict[str, Any]) -> Problems:
    return []


def _image(where: str, block: dict[str, Any]) -> Problems:
    problems = _text(f"{where}.title", block.get("title"), 2000)
    if len(str(block.get("alt_text") or "")) > 2000:
        problems.append(f"{where}.alt_text is longer than 2000 characters")
    return problems


_BLOCK_CHECKS: dict[str, Callable[[str, dict[str, Any]], Problems]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "input": _input,
    "divider": _nothing,
    "image": _image,
    "rich_text": _nothing,
}


# Elements.


def _element(where: str, element: dict[str, Any]) -> Problems:
    problems: Problems = []
    action_id = element.get("action_id")
    if action_id is not None and len(str(action_id)) > ID_LIMIT:
        problems.append(f"{where}.action_id is longer than {ID_LIMIT} characters")
    problems += _text(f"{where}.placeholder", element.get("placeholder"), 150)
    kind = element.get("type")
    if kind == "button":
        problems += _button(where, element)
    elif kind in ("static_select", "checkboxes", "radio_buttons", "overflow"):
        problems += _options(where, element)
    elif kind == "plain_text_input":
        problems += _text_input(where, element)
    return problems


def _button(where: str, element: dict[str, Any]) -> Problems:
    problems = _text(f"{where}.text", element.get("text"), 75, required=True)
    if len(str(element.get("value") or "")) > 2000:
        problems.append(f"{where}.value is longer than 2000 characters")
    if element.get("style") not in (None, "primary", "danger"):
        problems.append(f"{where}.style must be primary or danger")
    return problems


def _options(where: str, element: dict[str, Any]) -> Problems:
    options = element.get("options") or []
    most = {"checkboxes": 10, "radio_buttons": 10, "overflow": 5}.get(
        str(element.get("type")), 100
    )
    problems = _count(f"{where}.options", options, 1, most)
    values = []
    for index, option in enumerate(options):
        at = f"{where}.options[{index}]"
        problems += _text(f"{at}.text", option.get("text"), 75, required=True)
        value = str(option.get("value") or "")
        values.append(value)
        if not value or len(value) > 150:
            problems.append(f"{at}.value must be 1 to 150 characters")
    initial = element.get("initial_option")
    if initial is not None and str(initial.get("value")) not in values:
        problems.append(f"{where}.initial_option is not one of the options")
    return problems


def _text_input(where: str, element: dict[str, Any]) -> Problems:
    problems: Problems = []
    longest = element.get("max_length")
    if longest is not None and not 1 <= int(longest) <= 3000:
        problems.append(f"{where}.max_length must be from 1 to 3000")
    initial = str(element.get("initial_value") or "")
    if len(initial) > int(longest or 3000):
        problems.append(f"{where}.initial_value is longer than max_length")
    return problems


# Texts and counts.


def _text(
    where: str,
    text: Any,
    limit: int,
    *,
    required: bool = False,
    plain: bool = False,
) -> Problems:
    if text is None:
        return [f"{where} is required"] if required else []
    if not isinstance(text, dict):
        return [f"{where} must be a text object"]
    kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if text.get("type") not in kinds:
        return [f"{where}.type must be {' or '.join(kinds)}"]
    body = str(text.get("text") or "")
    if not body:
        return [f"{where}.text must not be empty"]
    if len(body) > limit:
        return [f"{where}.text is {len(body)} characters; at most {limit}"]
    return []


def _count(where: str, items: list[Any], low: int, high: int) -> Problems:
    if not low <= len(items) <= high:
        return [f"{where} has {len(items)} items; {low} to {high} are allowed"]
    return []


def _ids(block: Any) -> list[str]:
    """The action_ids of a block's elements (and its accessory)."""
    if not isinstance(block, dict):
        return []
    elements = list(block.get("elements") or [])
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            elements.append(block[key])
    return [
        str(e["action_id"])
        for e in elements
        if isinstance(e, dict) and e.get("action_id") is not None
    ]


def _unique(what: str, found: list[tuple[str, str]]) -> Problems:
    seen: dict[str, str] = {}
    problems: Problems = []
    for where, value in found:
        if value in seen:
            problems.append(f"{where}: {what} {value!r} is used twice")
        seen.setdefault(value, where)
    return problems


def _each(blocks: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(blocks, list):
        return []
    return [(i, b) for i, b in enumerate(blocks) if isinstance(b, dict)]
