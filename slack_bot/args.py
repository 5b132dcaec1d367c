"""From the text after `/jarvice <action>` to the action's parameters.

`/jarvice tail 1234 lines=50`: words are split like a shell does (quotes
group words; Slack's curly quotes count as quotes), `key=value` names a
field (`machine.type=n3` reaches into a nested one), a bare word that is a
true/false field turns it on (`jobs completed`), and the remaining words
fill the action's positional fields in order (the job number for job
actions, else its required fields). Nothing here talks to JARVICE: a
problem comes back as `ArgumentError` naming each field at fault.
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import json
import re
import shlex
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from jarvice_tools.actions import Action
from jarvice_tools.errors import FieldProblem, InvalidParameters
from jarvice_tools.models import JobRef, SignalParams, VaultParams

__all__ = [
    "ArgumentError",
    "FieldDoc",
    "ParsedWords",
    "describe_arguments",
    "field_docs",
    "parse_action_arguments",
    "plain_word",
    "positional_fields",
    "split_words",
]

_QUOTES = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'"}
)
_POSITIONAL_OVERRIDES: dict[type[BaseModel], tuple[str, ...]] = {
    VaultParams: ("vault", "path"),
    SignalParams: ("number", "signal"),
}
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_SECRET_NAME = re.compile(r"(?i)(pass|secret|token|apikey|api_key|credential)")
_PLAIN_WORD = re.compile(r"^[a-z][a-z-]{0,19}$")


def plain_word(text: str) -> str | None:
    """`text` if it looks like a word (and so may be repeated back), None if
    it could be something pasted by mistake, an API key say."""
    return text if _PLAIN_WORD.match(text) else None


class ArgumentError(Exception):
    """The words could not be turned into parameters; nothing was sent."""

    def __init__(self, problems: list[FieldProblem], *, action: str) -> None:
        self.problems = problems
        self.action = action
        super().__init__("; ".join(str(p) for p in problems))


@dataclass
class ParsedWords:
    """Words split into `key=value` pairs and plain positional words."""

    positional: list[str] = field(default_factory=list)
    named: dict[str, str] = field(default_factory=dict)


def split_words(text: str, *, action: str = "command") -> ParsedWords:
    """Split command text into positional words and `key=value` pairs.

    Extensions use this for their own subcommands. Raises `ArgumentError`
    for unbalanced quotes or a key given twice.
    """
    cleaned = html.unescape(text).translate(_QUOTES).strip()
    try:
        words = shlex.split(cleaned)
    except ValueError:
        raise ArgumentError(
            [FieldProblem("text", "has an unclosed quote")], action=action
        ) from None
    parsed = ParsedWords()
    for word in words:
        key, equals, value = word.partition("=")
        if equals and _KEY.match(key):
            if key in parsed.named:
                raise ArgumentError(
                    [FieldProblem(key, "is given more than once")], action=action
                )
            parsed.named[key] = value
        else:
            parsed.positional.append(word)
    return parsed


@dataclass(frozen=True)
class FieldDoc:
    """One field as help shows it: its dotted key, what it takes, its rule."""

    key: str
    kind: str
    description: str
    required: bool
    default: str | None
    annotation: Any = None


def field_docs(
    model: type[BaseModel], prefix: str = "", *, parent_required: bool = True
) -> list[FieldDoc]:
    """Every settable field of `model`, nested models flattened to dotted
    keys, in declaration order. A nested field counts as required only when
    its parent is required too."""
    docs: list[FieldDoc] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{info.alias or name}"
        required = info.is_required() and parent_required
        inner = _unwrap(info.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            docs.extend(field_docs(inner, f"{key}.", parent_required=required))
            continue
        docs.append(
            FieldDoc(
                key=key,
                kind=_kind(inner, info),
                description=info.description or "",
                required=required,
                default=_default(info),
                annotation=inner,
            )
        )
    return docs


def positional_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields that words without `key=` fill, in order."""
    if model in _POSITIONAL_OVERRIDES:
        return _POSITIONAL_OVERRIDES[model]
    names: list[str] = ["number"] if issubclass(model, JobRef) else []
    for name, info in model.model_fields.items():
        inner = _unwrap(info.annotation)
        nested = isinstance(inner, type) and issubclass(inner, BaseModel)
        if info.is_required() and not nested and name not in names:
            names.append(name)
    if not names and "name" in model.model_fields:
        names.append("name")
    return tuple(names)


def parse_action_arguments(action: Action[Any, Any], text: str) -> BaseModel:
    """The action's parameter model from command text, or `ArgumentError`."""
    words = split_words(text, action=action.name)
    docs = {doc.key: doc for doc in field_docs(action.params)}
    raw: dict[str, Any] = {}
    problems: list[FieldProblem] = []

    for key, value in words.named.items():
        doc = docs.get(key) or _dict_entry(docs, key)
        if doc is None:
            problems.append(FieldProblem(key, _unknown_key(key, docs)))
            continue
        try:
            _assign(raw, key, _convert(doc, value))
        except ValueError as error:
            problems.append(FieldProblem(key, str(error)))

    positional = list(words.positional)
    flags = [w for w in positional if _is_flag(docs.get(w)) and w not in raw]
    positional = [w for w in positional if w not in flags]
    for flag in flags:
        raw[flag] = True
    problems.extend(_fill_positional(action, positional, raw, docs))

    if problems:
        raise ArgumentError(problems, action=action.name)
    try:
        params: BaseModel = action.parse(raw)
    except InvalidParameters as error:
        raise ArgumentError(list(error.problems), action=action.name) from None
    return params


def describe_arguments(params: BaseModel | None, text: str = "") -> str:
    """Arguments as the audit log keeps them: the parsed values with every
    secret masked, or (for input that did not parse) only the keys given,
    since the values might be anything, a pasted key included."""
    if params is not None:
        dumped = params.model_dump(mode="python", exclude_none=True, by_alias=True)
        return " ".join(
            f"{key}={'***' if _SECRET_NAME.search(key) else _audit_value(value)}"
            for key, value in _flatten(dumped)
        )
    try:
        words = split_words(text)
    except ArgumentError:
        return "(unparsed text)"
    parts = [f"{key}=…" for key in words.named]
    if words.positional:
        parts.append(f"({len(words.positional)} more words)")
    return " ".join(parts)


# Parsing helpers.


def _fill_positional(
    action: Action[Any, Any],
    words: list[str],
    raw: dict[str, Any],
    docs: Mapping[str, FieldDoc],
) -> list[FieldProblem]:
    slots = [name for name in positional_fields(action.params) if name not in raw]
    is_job = issubclass(action.params, JobRef)
    problems: list[FieldProblem] = []
    for word in words:
        if not slots:
            problems.append(_too_many(action))
            break
        slot = slots.pop(0)
        if slot == "number" and is_job:
            number = word.lstrip("#")
            if number.isdigit():
                raw["number"] = number
            elif "name" not in raw:
                raw["name"] = word
            if "name" in slots:
                slots.remove("name")
            continue
        try:
            raw[slot] = _convert(docs[slot], word)
        except ValueError as error:
            problems.append(FieldProblem(slot, str(error)))
    return problems


def _too_many(action: Action[Any, Any]) -> FieldProblem:
    """Extra words are not repeated back: they could be anything pasted."""
    slots = positional_fields(action.params)
    if not slots:
        return FieldProblem(
            "values",
            f"{action.name} takes no values without a name; write key=value",
        )
    listed = ", ".join(slots)
    return FieldProblem(
        "values",
        f"one value too many: {action.name} takes {len(slots)} without a "
        f"name ({listed}); write the others as key=value",
    )


def _unknown_key(key: str, docs: Mapping[str, FieldDoc]) -> str:
    close = difflib.get_close_matches(key, list(docs), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    valid = ", ".join(docs) or "none"
    return f"is not a parameter of this action{hint} (valid: {valid})"


def _dict_entry(docs: Mapping[str, FieldDoc], key: str) -> FieldDoc | None:
    """`application.parameters.x` targets one entry of a dict field."""
    head, _, tail = key.rpartition(".")
    doc = docs.get(head)
    if doc is not None and tail and typing.get_origin(doc.annotation) is dict:
        return FieldDoc(key, "value", "", False, None, str)
    return None


def _assign(raw: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    target = raw
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _convert(doc: FieldDoc, value: str) -> Any:
    inner = doc.annotation
    origin = typing.get_origin(inner)
    if origin is dict or inner is dict:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError("must be a JSON object, e.g. '{\"key\": 1}'") from None
        if not isinstance(parsed, dict):
            raise ValueError("must be a JSON object, e.g. '{\"key\": 1}'")
        return parsed
    if origin is list:
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _is_flag(doc: FieldDoc | None) -> bool:
    return doc is not None and doc.annotation is bool


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return annotation


def _kind(inner: Any, info: FieldInfo) -> str:
    origin = typing.get_origin(inner)
    if origin is typing.Literal:
        return "one of " + ", ".join(str(v) for v in typing.get_args(inner))
    if origin is list:
        item = _unwrap(typing.get_args(inner)[0]) if typing.get_args(inner) else str
        if typing.get_origin(item) is typing.Literal:
            options = ", ".join(str(v) for v in typing.get_args(item))
            return f"comma-separated, each one of {options}"
        return "comma-separated list"
    if origin is dict or inner is dict:
        return "JSON object"
    if inner is bool:
        return "true or false"
    if inner is int:
        return "whole number" + _bounds(info)
    if inner is float:
        return "number" + _bounds(info)
    if inner is dt.date:
        return "date YYYY-MM-DD"
    if inner is SecretStr:
        return "secret text"
    return "text"


def _bounds(info: FieldInfo) -> str:
    low = high = None
    for rule in info.metadata:
        low = (
            getattr(rule, "ge", None) if getattr(rule, "ge", None) is not None else low
        )
        high = (
            getattr(rule, "le", None) if getattr(rule, "le", None) is not None else high
        )
    if low is not None and high is not None:
        return f", {low} to {high}"
    if low is not None:
        return f", at least {low}"
    if high is not None:
        return f", at most {high}"
    return ""


def _default(info: FieldInfo) -> str | None:
    if info.is_required():
        return None
    value = info.get_default(call_default_factory=True)
    if value is None or value == {} or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), value


def _audit_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "***"
    if isinstance(value, list | tuple):
        return ",".join(_audit_value(item) for item in value)
    text = str(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return shlex.quote(text) if text != shlex.quote(text) else text
