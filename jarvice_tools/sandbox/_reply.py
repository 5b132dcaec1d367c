"""Replies as JARVICE sends them: 4-space JSON without a trailing newline,
bare content types, errors as ``{"error": message}``; and the strict JSON
reader for request bodies."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSON = "application/json"
TEXT = "text/plain"
PNG = "image/png"
CSV = "text/csv"
# Far more than any JARVICE body or AppDef needs, and little enough that
# copying and writing a body never comes near Python's recursion limit.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str


def dumps(value: Any) -> bytes:
    """JSON as JARVICE writes it; NaN and infinities raise, never go out."""
    return json.dumps(value, indent=4, allow_nan=False).encode()


def _not_finite(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number")
    return number


def loads(raw: bytes) -> Any:
    """Strict JSON from UTF-8 bytes: only finite numbers (no NaN, Infinity
    or 1e999), nested at most :data:`MAX_DEPTH` levels. Raises ValueError
    saying what is wrong."""
    too_deep = f"it is nested more than {MAX_DEPTH} levels deep"
    try:
        value = json.loads(
            raw.decode("utf-8"), parse_constant=_not_finite, parse_float=_finite_float
        )
    except RecursionError as exc:
        raise ValueError(too_deep) from exc
    if _depth_over(value, MAX_DEPTH):
        raise ValueError(too_deep)
    return value


def _depth_over(value: Any, limit: int) -> bool:
    """Whether objects and lists nest deeper than ``limit`` (no recursion)."""
    level = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            if isinstance(item, (dict, list))
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return any(isinstance(item, (dict, list)) for item in level)


def json_reply(value: Any, status: int = 200) -> Reply:
    return Reply(status, dumps(value), JSON)


def error_reply(status: int, message: str) -> Reply:
    return json_reply({"error": message}, status)


def text_reply(lines: list[str], content_type: str = TEXT) -> Reply:
    text = "".join(f"{line}\n" for line in lines)
    return Reply(200, text.encode(), content_type)


class ApiError(Exception):
    """A refusal: becomes ``{"error": message}`` with this HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Params:
    """Request parameters (query and form merged) with typed getters.

    An empty value counts as missing. Bad values raise a 400 ``ApiError``.
    """

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def raw(self, name: str) -> str | None:
        value = self._values.get(name)
        return value if value not in (None, "") else None

    def given(self, name: str) -> bool:
        """Whether the parameter is present at all, even with no value."""
        return name in self._values

    def required(self, name: str) -> str:
        value = self.raw(name)
        if value is None:
            raise ApiError(400, f"Required parameter(s) missing: {name}")
        return value

    def integer(
        self, name: str, default: int | None = None, *, low: int = 0
    ) -> int | None:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if number < low:
            raise ApiError(
                400, f"Invalid parameter(s): {name} must be an integer >= {low}"
            )
        return number

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in ("true", "1", "yes", "on"):
            return True
        if value.lower() in ("false", "0", "no", "off"):
            return False
        raise ApiError(400, f"Invalid parameter(s): {name} must be true or false")

    def listed(self, name: str) -> list[str]:
        value = self.raw(name)
        return (
            [item.strip() for item in value.split(",") if item.strip()] if value else []
        )
