"""Applications and their AppDefs (/jarvice/apps, /jarvice/appdef).

AppDef models are lenient: an app whose definition has an unexpected shape
must not break the whole catalogue. The rules an AppDef imposes on a
submission are applied by `jarvice_tools.appdefs`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from jarvice_tools.models.base import ApiModel

__all__ = [
    "PARAMETER_TYPES",
    "VAULT_TYPES",
    "App",
    "AppCatalog",
    "AppCommand",
    "AppDef",
    "AppDefIdentity",
    "AppDefImage",
    "AppParameter",
    "ParameterType",
]

ParameterType = Literal[
    "CONST", "STR", "INT", "FLOAT", "RANGE", "BOOL", "selection", "FILE", "UPLOAD"
]
PARAMETER_TYPES: tuple[str, ...] = (
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
VAULT_TYPES: tuple[str, ...] = ("FILE", "BLOCK", "BLOCK_ARRAY", "OBJECT", "NONE")


class AppParameter(ApiModel):
    """One parameter of an AppDef command. `type` is kept as a string so that
    a type this code does not know yet still parses."""

    type: str = "STR"
    name: str | None = None
    description: str | None = None
    required: bool = False
    positional: bool = True
    variable: bool = False
    value: Any = None
    min: Any = None
    max: Any = None
    step: Any = None
    precision: int | None = None
    values: list[str] | None = None
    mvalues: list[str] | None = None
    filter: str | None = None
    target: str | None = None
    size: int | str | None = None
    if_: list[str] | None = Field(default=None, alias="if")
    ifnot: list[str] | None = None


class AppCommand(ApiModel):
    """An AppDef command (an "endpoint" the job starts)."""

    path: str | None = None
    name: str | None = None
    description: str | None = None
    parameters: dict[str, AppParameter] = Field(default_factory=dict)
    interactive: bool = False
    publicip: bool = False
    ports: list[str] | None = None
    noconnect: bool = False
    url: str | None = None
    machines: list[str] | None = None
    webshell: bool = False
    desktop: bool = False
    walltime: str | None = None


class AppDefImage(ApiModel):
    type: str | None = None
    data: str | None = Field(default=None, repr=False, description="Base64 image.")


class AppDefIdentity(ApiModel):
    username: str | None = None
    group: str | None = None
    uid: int | None = None
    gid: int | None = None


class AppDef(ApiModel):
    """An application definition."""

    name: str | None = None
    description: str | None = None
    author: str | None = None
    licensed: bool | None = None
    classifications: list[str] | None = None
    image: AppDefImage | None = None
    machines: list[str] | None = None
    vault_types: list[str] | None = Field(default=None, alias="vault-types")
    commands: dict[str, AppCommand] = Field(default_factory=dict)
    variables: dict[str, Any] | None = None
    identity: AppDefIdentity | None = None
    scale_max: int | None = None
    hints: list[str] | None = None
    appdefversion: int | None = None
    meta: str | None = None


class App(ApiModel):
    """An entry of /jarvice/apps. `data` is the AppDef; `price` excludes the
    machine's own price."""

    id: str | None = None
    price: float | None = None
    data: AppDef | None = None
    owner: str | int | None = None
    arch: str | None = None
    privs: list[str] | None = None
    src: str | None = None
    updated: int | None = None
    checkedout: bool | None = None
    certified: bool | None = None
    walltime: str | None = None
    repo: str | None = None


class AppCatalog(RootModel[dict[str, App]]):
    """Application id -> application."""
