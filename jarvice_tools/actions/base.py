"""What an Action is: one JARVICE endpoint, described once for every front end."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from jarvice_tools.errors import FieldProblem, InvalidParameters
from jarvice_tools.models.base import PATTERN_MESSAGES, RequestModel

__all__ = [
    "TOOLSETS",
    "Action",
    "Guard",
    "ResultKind",
    "problems_from",
]

P = TypeVar("P", bound=RequestModel)
R = TypeVar("R")


class Guard(StrEnum):
    """How much care an action needs before it runs.

    - read: runs at once; retried automatically on transient failures.
    - write: runs at once; never re-sent once it may have reached JARVICE.
    - confirm: a human must confirm it first, shown what will happen.
    - admin: only for callers the deployment marks as admins (reads).
    """

    READ = "read"
    WRITE = "write"
    CONFIRM = "confirm"
    ADMIN = "admin"


class ResultKind(StrEnum):
    JSON = "json"
    TEXT = "text"
    PNG = "png"
    CSV = "csv"


TOOLSETS = ("jobs", "apps", "machines", "vault", "images", "admin")
"""Groups of actions a front end may enable or leave out."""


@dataclass(frozen=True, eq=False)
class Action(Generic[P, R]):
    """One endpoint: its name, its plain-language summary, what it takes,
    what it returns, where it lives and which guard protects it."""

    name: str
    title: str
    summary: str
    params: type[P]
    result: type[R]
    kind: ResultKind
    path: str
    guard: Guard
    toolset: str
    body: Literal["form", "json"] = "form"
    deprecated: bool = False
    confirm_when: Callable[[P], bool] | None = None
    """For a write whose arguments can make it destructive (a signal that
    ends processes): when this says so, it needs confirmation too."""

    @property
    def method(self) -> str:
        """Every call is a POST: JSON for submissions, form fields otherwise,
        so that credentials never appear in a URL (JARVICE accepts both GET
        and POST on every endpoint that is not POST-only)."""
        return "POST"

    @property
    def changes_state(self) -> bool:
        return self.guard in (Guard.WRITE, Guard.CONFIRM)

    @property
    def may_need_confirmation(self) -> bool:
        """Whether some call of this action needs a human's confirmation."""
        return self.guard is Guard.CONFIRM or self.confirm_when is not None

    def needs_confirmation(self, params: P) -> bool:
        """Whether this call needs a human's confirmation."""
        if self.guard is Guard.CONFIRM:
            return True
        return self.confirm_when is not None and self.confirm_when(params)

    @property
    def retry_safe(self) -> bool:
        """Whether the request may be sent again after a failure."""
        return not self.changes_state

    @property
    def result_model(self) -> type[BaseModel] | None:
        """The pydantic model of a JSON or CSV result, else None."""
        if isinstance(self.result, type) and issubclass(self.result, BaseModel):
            return self.result
        return None

    def parse(self, raw: Mapping[str, Any] | BaseModel | None = None) -> P:
        """The parameter model from raw input, or `InvalidParameters`
        naming each field at fault (nothing has been sent).

        A model is always checked again, field by field: one of this very
        class may have been made with `model_construct` (no checks at all), and
        another (a subclass, say `SignalParams` for `status`) would put its
        extra fields on the wire."""
        if isinstance(raw, BaseModel):
            raw = raw.model_dump(exclude_unset=True)
        try:
            return self.params.model_validate(dict(raw or {}))
        except ValidationError as error:
            raise InvalidParameters(problems_from(error), action=self.name) from None

    def __repr__(self) -> str:
        return f"<Action {self.name} {self.guard.value} {self.path}>"


def problems_from(error: ValidationError) -> list[FieldProblem]:
    """Readable field problems from a pydantic error (input values are never
    echoed, since they may hold secrets)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        context = item.get("ctx") or {}
        field = ".".join(str(part) for part in item["loc"]) or str(
            context.get("field", "parameters")
        )
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a parameter of this action"
        elif item["type"] == "missing":
            message = "is required"
        elif item["type"] == "literal_error":
            message = message.replace("Input should be", "must be")
        elif item["type"] == "string_pattern_mismatch":
            message = PATTERN_MESSAGES.get(str(context.get("pattern")), message)
        problems.append(FieldProblem(field=field, message=message))
    return problems
