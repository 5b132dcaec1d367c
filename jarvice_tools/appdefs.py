"""The rules an AppDef puts on a submission, applied before anything is sent.

`check_submission` takes an app's AppDef, a command and raw parameter values
(strings from a form are fine) and gives back typed values or the problems,
each naming `application.parameters.<key>` and what would be valid.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from jarvice_tools.errors import FieldProblem
from jarvice_tools.models.apps import AppCommand, AppDef, AppParameter

__all__ = ["CheckedParameters", "check_parameters", "check_submission"]

Value = str | int | float | bool


@dataclass
class CheckedParameters:
    values: dict[str, Value] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_submission(
    appdef: AppDef, command: str, raw: Mapping[str, Any]
) -> CheckedParameters:
    """Check `raw` parameter values for `command` of `appdef`."""
    if command not in appdef.commands:
        valid = ", ".join(sorted(appdef.commands)) or "(none)"
        problem = FieldProblem(
            "application.command", f"{command!r} is not a command; valid: {valid}"
        )
        return CheckedParameters(problems=[problem])
    return check_parameters(appdef.commands[command], raw)


def check_parameters(command: AppCommand, raw: Mapping[str, Any]) -> CheckedParameters:
    """Typed values for one command's parameters, or what is wrong with them."""
    result = CheckedParameters()
    for key in raw:
        if key not in command.parameters:
            valid = ", ".join(sorted(command.parameters)) or "(none)"
            result.problems.append(
                FieldProblem(_where(key), f"is not a parameter; valid: {valid}")
            )

    for key, spec in command.parameters.items():
        given = raw.get(key)
        if given is None or given == "":
            default = _default(spec)
            if spec.required and default is None:
                result.problems.append(FieldProblem(_where(key), "is required"))
            elif spec.required and default is not None:
                result.values[key] = default
            continue
        try:
            result.values[key] = _typed(spec, given)
        except ValueError as error:
            result.problems.append(FieldProblem(_where(key), str(error)))
    return result


def _where(key: str) -> str:
    return f"application.parameters.{key}"


def _default(spec: AppParameter) -> Value | None:
    if spec.type == "selection":
        return spec.values[0] if spec.values else None
    if isinstance(spec.value, str | int | float | bool):
        return spec.value
    return None


def _typed(spec: AppParameter, given: Any) -> Value:
    kind = spec.type
    if kind == "BOOL":
        return _boolean(given)
    if kind in ("INT", "RANGE"):
        number: int | float = _integer(given)
        _within(spec, number)
        if kind == "RANGE" and spec.step not in (None, "", 0):
            _on_step(spec, number)
        return number
    if kind == "FLOAT":
        number = _float(given)
        _within(spec, number)
        _precision(spec, given)
        return number
    text = str(given)
    if kind == "CONST" and spec.value is not None and text != str(spec.value):
        raise ValueError(f"is fixed by the application to {spec.value!r}")
    if kind == "selection":
        options = spec.values or []
        if text not in options and text not in (spec.mvalues or []):
            raise ValueError(f"must be one of: {', '.join(options)}")
    if kind == "FILE" and spec.filter:
        patterns = spec.filter.split("|")
        if not any(fnmatch.fnmatch(text, p) for p in patterns):
            raise ValueError(f"must match {spec.filter}")
    if kind == "UPLOAD":
        _fits(spec, text)
    return text


def _fits(spec: AppParameter, content: str) -> None:
    """An UPLOAD's value is the file's content (its `filter` names the files a
    portal user may pick, so it does not apply); it must fit in `size`."""
    limit = _bound(spec.size)
    if limit is not None and len(content.encode()) > limit:
        raise ValueError(f"is the file's content, at most {_show(limit)} bytes")


def _boolean(given: Any) -> bool:
    if isinstance(given, bool):
        return given
    text = str(given).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError("must be true or false")


def _integer(given: Any) -> int:
    if isinstance(given, bool):
        raise ValueError("must be a whole number")
    try:
        number = float(str(given).strip())
    except ValueError:
        raise ValueError("must be a whole number") from None
    if not number.is_integer():
        raise ValueError("must be a whole number")
    return int(number)


def _float(given: Any) -> float:
    if isinstance(given, bool):
        raise ValueError("must be a number")
    try:
        number = float(str(given).strip())
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def _bound(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _within(spec: AppParameter, number: float) -> None:
    low, high = _bound(spec.min), _bound(spec.max)
    if (low is not None and number < low) or (high is not None and number > high):
        span = f"{_show(low)} to {_show(high)}"
        raise ValueError(f"must be from {span}")


def _show(bound: float | None) -> str:
    if bound is None:
        return "any"
    return str(int(bound)) if bound.is_integer() else str(bound)


def _on_step(spec: AppParameter, number: float) -> None:
    step, start = _bound(spec.step), _bound(spec.min) or 0.0
    if step and not math.isclose((number - start) / step % 1, 0.0, abs_tol=1e-9):
        raise ValueError(f"must be {_show(start)} plus a multiple of {_show(step)}")


def _precision(spec: AppParameter, given: Any) -> None:
    if spec.precision is None:
        return
    try:
        exponent = Decimal(str(given).strip()).as_tuple().exponent
    except InvalidOperation:
        return
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > spec.precision:
        raise ValueError(f"must have at most {spec.precision} decimal places")
