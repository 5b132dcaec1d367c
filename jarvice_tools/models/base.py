"""Base classes for JARVICE models.

Responses keep keys they do not know: JARVICE adds fields over time, and a
new field must never turn a good answer into an error. Request models are the
opposite: an unknown key is a typo, and the error names it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ApiModel", "RequestModel"]


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
