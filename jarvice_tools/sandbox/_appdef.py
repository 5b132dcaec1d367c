"""AppDef rules: /jarvice/validate, and submit parameters checked against them.

The real checks are not public; these follow the AppDef guide as summarised
in the observed-behaviour notes (section 5): required keys and their types,
per-type parameter keys, the five vault types, one UPLOAD per command.
"""

from __future__ import annotations

import fnmatch
import math
import re
from typing import Any

JsonDict = dict[str, Any]

PARAMETER_TYPES = (
    "CONST",
    "STR",
    "INT",
    "FLOAT",
    "RANGE",
    "BOOL",
    "selection",
    "FILE",
    "UPLOAD",
)
VAULT_TYPES = ("BLOCK", "BLOCK_ARRAY", "FILE", "NONE", "OBJECT")
WALLTIME = re.compile(r"^\d{1,4}:[0-5]\d:[0-5]\d$")
PORT = re.compile(r"^\d{1,5}/(tcp|udp|sctp)$")

_TOP_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "description": str,
    "author": str,
    "licensed": bool,
    "classifications": list,
    "image": dict,
    "machines": list,
    "vault-types": list,
    "commands": dict,
}
_TOP_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "variables": dict,
    "identity": dict,
    "scale_max": int,
    "hints": list,
    "appdefversion": int,
    "meta": str,
    "enablehpc": bool,
    "public": bool,
    "team": bool,
    "certified": bool,
    "walltime": str,
}
_CMD_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "path": str,
    "name": str,
    "description": str,
    "parameters": dict,
}
_CMD_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "interactive": bool,
    "publicip": bool,
    "ports": list,
    "noconnect": bool,
    "url": str,
    "machines": list,
    "variables": dict,
    "mpirun": bool,
    "noqueue": bool,
    "scale_max": int,
    "walltime": str,
}
_CMD_V2: dict[str, type | tuple[type, ...]] = {
    "webshell": bool,
    "desktop": bool,
    "verboseinit": bool,
    "cmdscript": str,
    "nestedkubernetes": bool,
}
_PAR_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "description": str,
}
_PAR_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "required": bool,
    "positional": bool,
    "variable": bool,
}
_NUMBER = (int, float)


class AppDefError(ValueError):
    """An AppDef or a submission breaks a rule; the message says which."""


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    if isinstance(kind, tuple):
        return " or ".join(names[k] for k in kind)
    return names[kind]


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    if isinstance(value, bool) and kind is not bool:
        return isinstance(kind, tuple) and bool in kind
    return isinstance(value, kind)


def _check_keys(
    obj: JsonDict,
    where: str,
    required: dict[str, type | tuple[type, ...]],
    optional: dict[str, type | tuple[type, ...]],
) -> None:
    for key in required:
        if key not in obj:
            raise AppDefError(f"{where}: missing required key '{key}'")
    for key, kind in {**required, **optional}.items():
        if key in obj and not _is(obj[key], kind):
            raise AppDefError(f"{where}.{key}: must be {_type_name(kind)}")


def _strings(value: list[Any], where: str) -> None:
    if not all(isinstance(item, str) for item in value):
        raise AppDefError(f"{where}: must be a list of strings")


def validate_appdef(appdef: Any) -> None:
    """Raise :class:`AppDefError` with a descriptive message if invalid."""
    if not isinstance(appdef, dict):
        raise AppDefError("AppDef must be a JSON object")
    _check_keys(appdef, "AppDef", _TOP_REQUIRED, _TOP_OPTIONAL)
    version = appdef.get("appdefversion", 2)
    if version not in (1, 2):
        raise AppDefError("AppDef.appdefversion: must be 1 or 2")
    for key in ("classifications", "machines", "vault-types"):
        _strings(appdef[key], f"AppDef.{key}")
    for vault in appdef["vault-types"]:
        if vault not in VAULT_TYPES:
            raise AppDefError(
                f"AppDef.vault-types: invalid vault type '{vault}' "
                f"(expected one of {', '.join(VAULT_TYPES)})"
            )
    _check_image(appdef["image"])
    if "identity" in appdef:
        _check_identity(appdef["identity"])
    if "scale_max" in appdef and appdef["scale_max"] < 1:
        raise AppDefError("AppDef.scale_max: must be at least 1")
    if "hints" in appdef:
        _strings(appdef["hints"], "AppDef.hints")
    if not appdef["commands"]:
        raise AppDefError("AppDef.commands: at least one command is required")
    for cmd_id, command in appdef["commands"].items():
        _check_command(cmd_id, command, version)


def _check_image(image: JsonDict) -> None:
    for key in ("type", "data"):
        if not isinstance(image.get(key), str):
            raise AppDefError(f"AppDef.image.{key}: required, must be a string")


def _check_identity(identity: JsonDict) -> None:
    for key in ("username", "group"):
        if key in identity and not isinstance(identity[key], str):
            raise AppDefError(f"AppDef.identity.{key}: must be a string")
    for key in ("uid", "gid"):
        if key in identity and not _is(identity[key], int):
            raise AppDefError(f"AppDef.identity.{key}: must be an integer")
    if identity.get("uid") == 0 or identity.get("gid") == 0:
        raise AppDefError("AppDef.identity: uid/gid 0 (root) is not supported")


def _check_command(cmd_id: str, command: Any, version: int) -> None:
    where = f"commands.{cmd_id}"
    if not isinstance(command, dict):
        raise AppDefError(f"{where}: must be an object")
    _check_keys(command, where, _CMD_REQUIRED, {**_CMD_OPTIONAL, **_CMD_V2})
    if version < 2:
        for key in _CMD_V2:
            if key in command:
                raise AppDefError(f"{where}.{key}: needs appdefversion 2")
    for port in command.get("ports", []):
        if not isinstance(port, str) or not PORT.match(port):
            raise AppDefError(f"{where}.ports: '{port}' is not '<n>/tcp|udp|sctp'")
    if "machines" in command:
        _strings(command["machines"], f"{where}.machines")
    if "walltime" in command and not WALLTIME.match(command["walltime"]):
        raise AppDefError(f"{where}.walltime: must be HH:MM:SS")
    parameters = command["parameters"]
    uploads = [k for k, p in parameters.items() if _kind(p) == "UPLOAD"]
    if len(uploads) > 1:
        raise AppDefError(f"{where}.parameters: only one UPLOAD parameter allowed")
    for key, parameter in parameters.items():
        _check_parameter(f"{where}.parameters.{key}", parameter, parameters, version)


def _kind(parameter: Any) -> Any:
    return parameter.get("type", "STR") if isinstance(parameter, dict) else None


def _check_parameter(
    where: str, parameter: Any, siblings: JsonDict, version: int
) -> None:
    if not isinstance(parameter, dict):
        raise AppDefError(f"{where}: must be an object")
    _check_keys(parameter, where, _PAR_REQUIRED, _PAR_OPTIONAL)
    kind = parameter.get("type", "STR")
    if kind not in PARAMETER_TYPES:
        raise AppDefError(
            f"{where}.type: invalid type '{kind}' "
            f"(expected one of {', '.join(PARAMETER_TYPES)})"
        )
    for cond in ("if", "ifnot"):
        if cond in parameter:
            if version < 2:
                raise AppDefError(f"{where}.{cond}: needs appdefversion 2")
            names = parameter[cond]
            if not isinstance(names, list) or any(
                not isinstance(name, str) or _kind(siblings.get(name)) != "BOOL"
                for name in names
            ):
                raise AppDefError(f"{where}.{cond}: must list BOOL parameters")
    _PER_TYPE[kind](where, parameter)


def _numeric(
    where: str, parameter: JsonDict, keys: tuple[str, ...], kind: type
) -> None:
    for key in keys:
        if key in parameter and not _is(parameter[key], kind):
            raise AppDefError(f"{where}.{key}: must be {_type_name(kind)}")
    low, high = parameter.get("min"), parameter.get("max")
    if low is not None and high is not None and low > high:
        raise AppDefError(f"{where}: min is greater than max")
    value = parameter.get("value")
    if value is not None and (
        (low is not None and value < low) or (high is not None and value > high)
    ):
        raise AppDefError(f"{where}.value: {value} is outside min..max")


def _check_int(where: str, parameter: JsonDict) -> None:
    _numeric(where, parameter, ("value", "min", "max"), int)


def _check_range(where: str, parameter: JsonDict) -> None:
    for key in ("min", "max", "step"):
        if key not in parameter:
            raise AppDefError(f"{where}: RANGE needs '{key}'")
    _numeric(where, parameter, ("value", "min", "max", "step"), _NUMBER)  # type: ignore[arg-type]
    if parameter["step"] <= 0:
        raise AppDefError(f"{where}.step: must be greater than 0")


def _check_float(where: str, parameter: JsonDict) -> None:
    _numeric(where, parameter, ("value", "min", "max"), _NUMBER)  # type: ignore[arg-type]
    precision = parameter.get("precision", 0)
    if not _is(precision, int) or precision < 0:
        raise AppDefError(f"{where}.precision: must be a non-negative integer")


def _check_bool(where: str, parameter: JsonDict) -> None:
    if "value" in parameter and not isinstance(parameter["value"], bool):
        raise AppDefError(f"{where}.value: must be a boolean")


def _check_const(where: str, parameter: JsonDict) -> None:
    if "value" not in parameter:
        raise AppDefError(f"{where}: CONST needs a 'value'")


def _check_selection(where: str, parameter: JsonDict) -> None:
    values = parameter.get("values")
    if not isinstance(values, list) or not values:
        raise AppDefError(f"{where}.values: selection needs a non-empty list")
    _strings(values, f"{where}.values")
    mvalues = parameter.get("mvalues")
    if mvalues is not None and (
        not isinstance(mvalues, list) or len(mvalues) != len(values)
    ):
        raise AppDefError(f"{where}.mvalues: must be a list as long as values")


def _check_file(where: str, parameter: JsonDict) -> None:
    if "filter" in parameter and not isinstance(parameter["filter"], str):
        raise AppDefError(f"{where}.filter: must be a string like '*.c|*.py'")


def _check_upload(where: str, parameter: JsonDict) -> None:
    if not isinstance(parameter.get("target"), str):
        raise AppDefError(f"{where}.target: UPLOAD needs a target path")
    _check_file(where, parameter)
    size = parameter.get("size")
    if size is not None and _as_int(size) is None:
        raise AppDefError(f"{where}.size: must be a number of bytes")


def _check_str(where: str, parameter: JsonDict) -> None:
    if "value" in parameter and not isinstance(parameter["value"], str):
        raise AppDefError(f"{where}.value: must be a string")


_PER_TYPE = {
    "CONST": _check_const,
    "STR": _check_str,
    "INT": _check_int,
    "FLOAT": _check_float,
    "RANGE": _check_range,
    "BOOL": _check_bool,
    "selection": _check_selection,
    "FILE": _check_file,
    "UPLOAD": _check_upload,
}


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    return None


def _as_float(value: Any) -> float | None:
    """A finite float from a JSON number or a numeric string, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # float(10**400) overflows
        return None
    return number if math.isfinite(number) else None


def check_parameters(cmd_id: str, command: JsonDict, given: Any) -> JsonDict:
    """Check a submission's parameters against a command; return the values.

    The result has every parameter that has a value (given or default).
    Numbers may be JSON numbers or numeric strings; BOOL must be a boolean.
    """
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise AppDefError("application.parameters: must be an object")
    definitions: JsonDict = command.get("parameters", {})
    for key in given:
        if key not in definitions:
            raise AppDefError(f"unknown parameter '{key}' for command '{cmd_id}'")
    values: JsonDict = {}
    for key, definition in definitions.items():
        if key in given:
            values[key] = _check_value(key, definition, given[key])
        elif definition.get("type", "STR") == "CONST":
            values[key] = definition.get("value")
        elif definition.get("required", False):
            raise AppDefError(f"missing required parameter '{key}'")
        elif "value" in definition:
            values[key] = definition["value"]
    return values


def _check_value(key: str, definition: JsonDict, value: Any) -> Any:
    kind = definition.get("type", "STR")
    where = f"parameter '{key}'"
    if kind == "CONST":
        if value != definition.get("value"):
            raise AppDefError(f"{where} is CONST and cannot be changed")
        return value
    if kind == "BOOL":
        if not isinstance(value, bool):
            raise AppDefError(f"{where} must be a boolean")
        return value
    if kind in ("INT", "FLOAT", "RANGE"):
        return _check_number(where, kind, definition, value)
    if kind == "selection":
        allowed = [*definition.get("values", []), *definition.get("mvalues", [])]
        if value not in allowed:
            raise AppDefError(f"{where} must be one of {', '.join(map(str, allowed))}")
        return value
    if not isinstance(value, str):
        raise AppDefError(f"{where} must be a string")
    if kind == "FILE":
        _check_filter(where, definition, value)
    if kind == "UPLOAD":  # the value is the file's content, not its name
        limit = _as_int(definition.get("size"))
        if limit is not None and len(value) > limit:
            raise AppDefError(f"{where} is larger than {limit} bytes")
    return value


def _check_number(where: str, kind: str, definition: JsonDict, value: Any) -> Any:
    number: float | int | None = _as_int(value) if kind == "INT" else _as_float(value)
    if number is None:
        noun = "an integer" if kind == "INT" else "a number"
        raise AppDefError(f"{where} must be {noun}")
    low, high = definition.get("min"), definition.get("max")
    if (low is not None and number < low) or (high is not None and number > high):
        raise AppDefError(f"{where} must be between {low} and {high}")
    step = definition.get("step")
    if kind == "RANGE" and step:
        offset = (number - (low or 0)) / step
        if abs(offset - round(offset)) > 1e-9:
            raise AppDefError(f"{where} must be {low} plus a multiple of {step}")
    return number


def _check_filter(where: str, definition: JsonDict, value: str) -> None:
    patterns = [p for p in str(definition.get("filter", "")).split("|") if p]
    name = value.rsplit("/", 1)[-1]
    if patterns and not any(fnmatch.fnmatch(name, p) for p in patterns):
        raise AppDefError(f"{where} must match {definition['filter']}")


def machine_allowed(patterns: list[str], machine: str) -> bool:
    """Whether a machine name matches an AppDef's shell-style patterns."""
    return any(fnmatch.fnmatchcase(machine, pattern) for pattern in patterns)
