"""Turning an action's result into an MCP tool result.

JSON results become structured content with an output schema (always an
object: lists and maps are wrapped, wide JARVICE shapes are summarised to the
fields that matter), mirrored as JSON text for clients that only read text.
Text results (job output, history, audit) are bounded and framed as
untrusted data; screenshots are image content. Chosen by result type and
kind, never by endpoint.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import BaseModel, ConfigDict, Field

from jarvice_tools.actions import Action, ResultKind
from jarvice_tools.models import (
    AppCatalog,
    AppDef,
    BillingReport,
    JobList,
    JobStatusMap,
    MachineCatalog,
    Projects,
    Queues,
    TeamUsers,
    VaultListing,
)
from jarvice_tools.models.base import RequestModel
from jarvice_tools.summaries import JobSummary, bound_text
from mcp_server import wording

__all__ = [
    "AppInfo",
    "AppListing",
    "JobListing",
    "Limits",
    "MachineInfo",
    "MachineListing",
    "compact_schema",
    "json_result",
    "lean_output_schema",
    "limits_note",
    "map_descriptions",
    "output_model",
    "present",
    "text_result",
    "upstream_lines",
]


@dataclass(frozen=True)
class Limits:
    """How much a single tool result may hold."""

    max_lines: int = 100
    max_bytes: int = 16_000
    max_items: int = 50


# -- summarised shapes -------------------------------------------------------------


class JobListing(BaseModel):
    jobs: list[JobSummary] = Field(description="Newest first.")
    total: int = Field(description="Jobs in JARVICE's answer.")
    note: str | None = None


class MachineInfo(BaseModel):
    name: str
    description: str | None = None
    cores: int | None = Field(default=None, description="Per node.")
    gpus: int | None = Field(default=None, description="Per node.")
    ram_gb: int | None = Field(default=None, description="Per node.")
    min_nodes: int | None = None
    max_nodes: int | None = None
    price: float | None = Field(default=None, description="Per node-hour.")


class MachineListing(BaseModel):
    machines: list[MachineInfo]


class AppInfo(BaseModel):
    id: str
    name: str | None = None
    description: str | None = None
    commands: list[str] = Field(description="Use one with the submit action.")
    machines: list[str] | None = Field(default=None, description="Patterns.")
    price: float | None = Field(default=None, description="Per hour, on top.")


class AppListing(BaseModel):
    apps: list[AppInfo]


class AppDefinition(BaseModel):
    """An AppDef without its icon; commands keep their parameters."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    description: str | None = None
    machines: list[str] | None = None
    commands: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Command -> path, parameters, ..."
    )


class VaultFile(BaseModel):
    name: str = Field(description="Directories end in /.")
    size: int | None = Field(default=None, description="Bytes (details=true).")
    mtime: int | None = Field(default=None, description="Unix time (details=true).")


class VaultView(BaseModel):
    path: str
    entries: list[VaultFile]
    total: int
    note: str | None = None


class TeamMember(BaseModel):
    username: str
    email: str | None = None
    name: str | None = None


class TeamList(BaseModel):
    users: list[TeamMember]


class ProjectInfo(BaseModel):
    name: str
    members: list[str]


class ProjectList(BaseModel):
    projects: list[ProjectInfo]


class QueueView(BaseModel):
    name: str
    app: str | None = None
    machine: str | None = None
    size: int | None = Field(default=None, description="Node limit per job.")


class QueueList(BaseModel):
    queues: list[QueueView]


class BillingView(BaseModel):
    columns: list[str]
    rows: list[dict[str, str]]
    total_rows: int
    note: str | None = None


# -- presenters ----------------------------------------------------------------------

Presenter = Callable[[Any, RequestModel, Limits, float], BaseModel]


def _jobs(
    value: JobList, params: RequestModel, limits: Limits, now: float
) -> JobListing:
    numbers = sorted(value.root, reverse=True)
    shown = numbers[: _cap(JobList, limits)]
    jobs = [JobSummary.of(n, value.root[n], now=now) for n in shown]
    note = None
    if len(shown) < len(numbers):
        note = wording.list_note(len(shown), len(numbers), "jobs")
    return JobListing(jobs=jobs, total=len(numbers), note=note)


def _status(
    value: JobStatusMap, params: RequestModel, limits: Limits, now: float
) -> JobSummary:
    number, status = value.only()
    return JobSummary.of(number, status, now=now)


def _machines(
    value: MachineCatalog, params: RequestModel, limits: Limits, now: float
) -> MachineListing:
    machines = [
        MachineInfo(
            name=m.mc_name or key,
            description=m.mc_description,
            cores=m.mc_cores,
            gpus=m.mc_gpus,
            ram_gb=m.mc_ram,
            min_nodes=m.mc_scale_min,
            max_nodes=m.mc_scale_max,
            price=m.mc_price,
        )
        for key, m in sorted(value.root.items())
    ]
    return MachineListing(machines=machines)


def _apps(
    value: AppCatalog, params: RequestModel, limits: Limits, now: float
) -> AppListing:
    apps = []
    for key, app in sorted(value.root.items()):
        appdef = app.data or AppDef()
        apps.append(
            AppInfo(
                id=app.id or key,
                name=appdef.name,
                description=appdef.description,
                commands=sorted(appdef.commands),
                machines=appdef.machines,
                price=app.price,
            )
        )
    return AppListing(apps=apps)


def _appdef(
    value: AppDef, params: RequestModel, limits: Limits, now: float
) -> AppDefinition:
    dumped = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    dumped.pop("image", None)
    return AppDefinition.model_validate(dumped)


def _vault(
    value: VaultListing, params: RequestModel, limits: Limits, now: float
) -> VaultView:
    detailed = bool(getattr(params, "details", False))
    entries = [
        VaultFile(
            name=e.name,
            size=e.size if detailed else None,
            mtime=e.mtime if detailed else None,
        )
        for e in value.root
    ]
    cap = _cap(VaultListing, limits)
    note = None
    if len(entries) > cap:
        note = wording.list_note(cap, len(entries), "entries")
    path = str(getattr(params, "path", "/"))
    return VaultView(path=path, entries=entries[:cap], total=len(entries), note=note)


def _team(
    value: TeamUsers, params: RequestModel, limits: Limits, now: float
) -> TeamList:
    users = [
        TeamMember(username=name, email=user.email, name=user.name)
        for name, user in sorted(value.root.items())
    ]
    return TeamList(users=users)


def _projects(
    value: Projects, params: RequestModel, limits: Limits, now: float
) -> ProjectList:
    projects = [
        ProjectInfo(name=name, members=members)
        for name, members in sorted(value.root.items())
    ]
    return ProjectList(projects=projects)


def _queues(
    value: Queues, params: RequestModel, limits: Limits, now: float
) -> QueueList:
    if isinstance(value.root, list):
        return QueueList(queues=[QueueView(name=name) for name in value.root])
    queues = [
        QueueView(
            name=info.name or name, app=info.app, machine=info.machine, size=info.size
        )
        for name, info in sorted(value.root.items())
    ]
    return QueueList(queues=queues)


def _billing(
    value: BillingReport, params: RequestModel, limits: Limits, now: float
) -> BillingView:
    cap = _cap(BillingReport, limits)
    note = None
    if len(value.rows) > cap:
        note = wording.list_note(cap, len(value.rows), "rows")
    return BillingView(
        columns=value.columns,
        rows=value.rows[:cap],
        total_rows=len(value.rows),
        note=note,
    )


_PRESENTERS: dict[type[Any], tuple[type[BaseModel], Presenter]] = {
    JobList: (JobListing, _jobs),
    JobStatusMap: (JobSummary, _status),
    MachineCatalog: (MachineListing, _machines),
    AppCatalog: (AppListing, _apps),
    AppDef: (AppDefinition, _appdef),
    VaultListing: (VaultView, _vault),
    TeamUsers: (TeamList, _team),
    Projects: (ProjectList, _projects),
    Queues: (QueueList, _queues),
    BillingReport: (BillingView, _billing),
}


_LISTS: dict[type[Any], tuple[int, str]] = {
    JobList: (1, "jobs"),
    VaultListing: (4, "entries"),
    BillingReport: (4, "rows"),
}
"""Results cut to a multiple of `max_items`, and what they list."""


def limits_note(action: Action[Any, Any], limits: Limits) -> str:
    """What this server's limits do to the action's results, for its tool's
    description ("" when nothing)."""
    if action.kind is ResultKind.TEXT:
        return wording.text_limits_note(limits.max_lines, limits.max_bytes)
    if action.result in _LISTS:
        what = _LISTS[action.result][1]
        return wording.list_limit_note(_cap(action.result, limits), what)
    return ""


def _cap(result: type[Any], limits: Limits) -> int:
    return limits.max_items * _LISTS[result][0]


def output_model(action: Action[Any, Any]) -> type[BaseModel] | None:
    """The model of the tool's structured output, or None for text and images."""
    if action.kind in (ResultKind.TEXT, ResultKind.PNG):
        return None
    if action.result in _PRESENTERS:
        return _PRESENTERS[action.result][0]
    model = action.result_model
    if model is None or "root" in model.model_fields:
        raise TypeError(f"{action.name}: no presentation for {action.result!r}")
    return model


def present(
    action: Action[Any, Any],
    params: RequestModel,
    value: Any,
    limits: Limits,
    *,
    now: float,
) -> CallToolResult:
    """The tool result for `value`, what `action` returned for `params`."""
    reference = params.job_reference()
    if action.kind is ResultKind.PNG:
        image = ImageContent(
            type="image", data=base64.b64encode(value).decode(), mime_type="image/png"
        )
        caption = TextContent(
            type="text", text=wording.screenshot_text(reference, len(value))
        )
        return CallToolResult(content=[image, caption])
    if action.kind is ResultKind.TEXT:
        takes_lines = "lines" in type(params).model_fields
        return text_result(
            wording.text_heading(action, reference),
            value,
            limits,
            asked=getattr(params, "lines", None),
            takes_lines=takes_lines,
        )
    if action.result in _PRESENTERS:
        shaped = _PRESENTERS[action.result][1](value, params, limits, now)
    else:
        shaped = value
    return json_result(shaped)


def json_result(model: BaseModel) -> CallToolResult:
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=data
    )


def upstream_lines(asked: int | None, limits: Limits) -> int:
    """How many lines to ask JARVICE for, given the caller's `lines` (None:
    this server's default; 0: all): never more than fit in one result, as
    every line takes at least one byte (its newline)."""
    if asked is None:
        return limits.max_lines
    return min(asked or limits.max_bytes, limits.max_bytes)


def text_result(
    heading: str,
    text: str,
    limits: Limits,
    *,
    asked: int | None,
    takes_lines: bool,
) -> CallToolResult:
    """Bounded, framed untrusted text: the frame and the note included, at
    most `limits.max_bytes`. `asked` is the caller's lines argument (0: all;
    None: none), `takes_lines` whether the action has one; JARVICE was asked
    for `upstream_lines(asked)`."""
    max_lines = upstream_lines(asked, limits)
    lines = text.splitlines()
    reduced = asked is not None and max_lines != asked
    cut = _Cut(len(lines), max_lines, reduced, takes_lines, limits.max_bytes)
    frame = wording.untrusted_block(heading, "", cut.longest_note())
    room = max(limits.max_bytes - len(frame.encode()), 0)

    size_cut = sum(len(line.encode()) + 1 for line in lines[-max_lines:]) > room
    raw = bound_text(text, max_lines=max_lines, max_bytes=room)
    clean = wording.clean_untrusted(raw.text)
    shown = bound_text(clean, max_lines=max_lines, max_bytes=room)
    note = cut.note(shown.lines_returned, size_cut)
    block = wording.untrusted_block(heading, shown.text, note)
    return CallToolResult(content=[TextContent(type="text", text=block)])


@dataclass(frozen=True)
class _Cut:
    """What bounding a text of `received` lines may leave out, for the note
    saying so."""

    received: int
    max_lines: int
    reduced: bool
    takes_lines: bool
    max_bytes: int

    def note(self, returned: int, size_cut: bool) -> str | None:
        if size_cut:
            return wording.size_note(returned, self.received, self.max_bytes)
        if self.received > self.max_lines:
            return wording.cut_note(self.max_lines, self.received, self.takes_lines)
        if self.takes_lines and self.received >= self.max_lines:
            most = self.max_lines if self.reduced else None
            return wording.more_note(self.received, most)
        return None

    def longest_note(self) -> str:
        """At least as long as any note this text can get (fewer lines
        returned than received mean no more digits)."""
        notes = [self.note(self.received, True), self.note(self.received, False)]
        return max((n or "" for n in notes), key=lambda n: len(n.encode()))


def _always(value: Any) -> bool:
    return True


_NOISE: dict[str, Callable[[Any], bool]] = {
    "title": _always,
    "writeOnly": _always,
    "default": lambda value: value is None or value is False,
    "additionalProperties": lambda value: value is True or value is False,
    "format": lambda value: value == "password",
    "minLength": lambda value: value == 1,
    "maxLength": lambda value: isinstance(value, int) and value >= 256,
    "pattern": _always,
}
"""Schema keys, and the values of them, that tell a model nothing the server
does not check itself: null defaults (None fields may be omitted, and
results leave them out), false ones (JARVICE's booleans all default to
false), patterns (the field's description gives an example, and a value that
does not match is refused with a message naming the field), limits no real
value comes near."""


def compact_schema(schema: Any, *, descriptions: bool = True) -> Any:
    """A smaller JSON schema with the same meaning for a client: no keys
    `_NOISE` drops, no `anyOf [T, null]`, definitions used once written in
    place; without `descriptions` also no descriptions (output schemas)."""
    return _inline_single_refs(_compact(schema, descriptions))


def _compact(schema: Any, descriptions: bool) -> Any:
    if isinstance(schema, list):
        return [_compact(item, descriptions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _NOISE and _NOISE[key](value):
            continue
        if key == "description" and not descriptions and isinstance(value, str):
            continue
        if key in ("properties", "$defs"):
            out[key] = {
                name: _compact(sub, descriptions) for name, sub in value.items()
            }
        else:
            out[key] = _compact(value, descriptions)
    options = out.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) == 1 and len(kept) < len(options):
            del out["anyOf"]
            out = {**kept[0], **out}
    return out


def _inline_single_refs(schema: Any) -> Any:
    """`schema` with each definition that is referred to once, and refers to
    nothing, written where it is used."""
    if not isinstance(schema, dict) or "$defs" not in schema:
        return schema
    definitions: dict[str, Any] = schema["$defs"]
    counts = _ref_counts(schema)
    inline = {
        name
        for name, shape in definitions.items()
        if counts.get(name, 0) == 1 and not _refs(shape)
    }
    if not inline:
        return schema

    def place(node: Any) -> Any:
        if isinstance(node, list):
            return [place(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        name = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None
        if name in inline:
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**definitions[name], **rest}
        return {k: place(v) for k, v in node.items() if k != "$defs"}

    placed: dict[str, Any] = place(schema)
    kept = {n: place(d) for n, d in definitions.items() if n not in inline}
    if kept:
        placed["$defs"] = kept
    return _inline_single_refs(placed)


def _ref_counts(node: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                counts[name] = counts.get(name, 0) + 1
            stack.extend(item.values())
    return counts


Untrusted = Collection[tuple[str, str]]
"""Fields of an output schema holding text the job printed: (definition,
field) pairs."""


def map_descriptions(schema: Any, change: Callable[[str], str]) -> Any:
    """`schema` with every description passed through `change`."""
    if isinstance(schema, list):
        return [map_descriptions(item, change) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: change(value)
        if key == "description" and isinstance(value, str)
        else map_descriptions(value, change)
        for key, value in schema.items()
    }


def lean_output_schema(
    schema: dict[str, Any], *, untrusted: Untrusted = ()
) -> dict[str, Any]:
    """An output schema for clients, not models: compact, without
    descriptions, and every shape lists only its required keys (the others
    may appear; none are forbidden; a result with no required key lists all
    of its own), so that tools/list stays small. `untrusted` fields stay
    listed, with the keys that lead to them, and say what they hold;
    definitions nothing refers to are dropped."""
    lean: dict[str, Any] = _compact(schema, descriptions=False)
    definitions: dict[str, Any] = lean.pop("$defs", {})
    marked: dict[str, set[str]] = {}
    for name, field in untrusted:
        marked.setdefault(name, set()).add(field)
    leading = _leading_to(definitions, set(marked))
    shapes = {
        name: _trim(shape, marked.get(name, set()), leading)
        for name, shape in definitions.items()
    }
    if lean.get("required"):
        lean = _trim(lean, set(), leading)
    used = _reachable(lean, shapes)
    if used:
        lean["$defs"] = {name: shapes[name] for name in sorted(used)}
    inlined: dict[str, Any] = _inline_single_refs(lean)
    return inlined


def _refs(node: Any) -> set[str]:
    """The definitions `node` refers to, at any depth."""
    return set(_ref_counts(node))


def _leading_to(definitions: dict[str, Any], targets: set[str]) -> set[str]:
    """`targets` and every definition that refers to one, at any depth."""
    leading = set(targets)
    grown = True
    while grown:
        more = {n for n, d in definitions.items() if _refs(d) & leading} - leading
        leading |= more
        grown = bool(more)
    return leading


def _trim(shape: dict[str, Any], marked: set[str], leading: set[str]) -> dict[str, Any]:
    properties = shape.get("properties", {})
    required = set(shape.get("required", []))
    kept = {
        key: (
            {**value, "description": wording.UNTRUSTED_FIELD}
            if key in marked
            else value
        )
        for key, value in properties.items()
        if key in required or key in marked or _refs(value) & leading
    }
    trimmed = {key: value for key, value in shape.items() if key != "properties"}
    if kept:
        trimmed["properties"] = kept
    return trimmed


def _reachable(schema: dict[str, Any], definitions: dict[str, Any]) -> set[str]:
    reached: set[str] = set()
    todo = _refs(schema)
    while todo:
        name = todo.pop()
        if name in definitions and name not in reached:
            reached.add(name)
            todo |= _refs(definitions[name])
    return reached
