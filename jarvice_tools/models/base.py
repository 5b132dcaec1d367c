"""Base classes for JARVICE models.

Responses keep keys they do not know: JARVICE adds fields over time, and a
new field must never turn a good answer into an error. Request models are the
opposite: an unknown key is a typo, and the error names it.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

__all__ = [
    "GEOMETRY",
    "MACHINE_NAME",
    "NO_SPACES",
    "PATTERN_MESSAGES",
    "WALLTIME",
    "WHOLE_NUMBER",
    "ApiModel",
    "RequestModel",
]

NO_SPACES = r"^\S+$"
MACHINE_NAME = r"^[A-Za-z0-9_.-]+$"
WALLTIME = r"^\d{1,4}:[0-5]\d:[0-5]\d$"
GEOMETRY = r"^\d+x\d+$"

PATTERN_MESSAGES = {
    NO_SPACES: "must not contain spaces",
    MACHINE_NAME: (
        "may hold only letters, digits, '.', '_' and '-', for example n0 or ng4"
    ),
    WALLTIME: "must be HH:MM:SS, for example 02:00:00",
    GEOMETRY: "must be WIDTHxHEIGHT in pixels, for example 1904x841",
}
"""What each string pattern of the request models means, in words: a field
that does not match is told this, not the regular expression."""

_DIGITS = re.compile(r"\s*[+-]?\d+\s*")


def _whole_number(value: Any) -> Any:
    """A job number, signal, line or node count as an int: digits in text
    (from a chat command) are fine; true/false and decimals are refused,
    since lax parsing would make True signal 1 (SIGHUP) and 9.5 a 9."""
    if isinstance(value, bool):
        raise PydanticCustomError(
            "whole_number", "must be a whole number, not true or false"
        )
    if isinstance(value, float):
        raise PydanticCustomError(
            "whole_number", "must be a whole number, without a decimal point"
        )
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return value


WHOLE_NUMBER = BeforeValidator(_whole_number)
"""Use as `Annotated[int | None, WHOLE_NUMBER]`: the field's type stays
`int`, so schemas and help texts are unchanged."""


class ApiModel(BaseModel):
    """A JARVICE response shape: unknown keys are kept, never an error."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RequestModel(BaseModel):
    """Something we send: unknown keys are refused, values checked."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        str_strip_whitespace=True,
        frozen=True,
    )

    def job_reference(self) -> str | None:
        """'job 123' or 'job <name>' when these parameters name one job."""
        return None
