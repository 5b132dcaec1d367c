"""tools/list: which tools exist, their schemas and annotations, and the
gates that decide it (read-only, toolsets, admin)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp.types import Tool

from jarvice_tools.actions import ACTIONS, TOOLSETS, Guard, ResultKind
from mcp_server import wording
from mcp_server.tools import OVERWRITING
from tests.mcp.mcp_harness import Harness, connect

pytestmark = pytest.mark.anyio

EXTRAS = {"jarvice_wait", "jarvice_explain"}


def expected(*, admin: bool = False, read_only: bool = False) -> set[str]:
    names = {
        f"jarvice_{action.name}"
        for action in ACTIONS.values()
        if (admin or action.guard is not Guard.ADMIN)
        and not (read_only and action.changes_state)
    }
    return names | EXTRAS


def may_destroy(tool: Tool) -> bool:
    """As a client must read the hints: destructive unless said otherwise."""
    hints = tool.annotations
    if hints is not None and hints.read_only_hint:
        return False
    return hints is None or hints.destructive_hint is not False


async def listed(
    harness: Harness, era: str, user: str = "alice", **config: Any
) -> dict[str, Tool]:
    async with connect(harness.server(user, **config), era) as client:
        tools = (await client.list_tools()).tools
    return {tool.name: tool for tool in tools}


async def test_one_tool_per_action_plus_wait_and_explain(
    harness: Harness, era: str
) -> None:
    tools = await listed(harness, era)

    assert set(tools) == expected()


async def test_an_admin_gets_the_admin_tools_too(harness: Harness, era: str) -> None:
    tools = await listed(harness, era, "admin", admin=True)

    assert set(tools) == expected(admin=True)


@pytest.mark.parametrize("name", sorted(ACTIONS))
async def test_schema_is_flat_over_the_parameter_model(
    harness: Harness, name: str
) -> None:
    action = ACTIONS[name]
    tools = await listed(harness, "modern", "admin", admin=True)
    tool = tools[f"jarvice_{name}"]

    properties = tool.input_schema["properties"]
    fields = set(action.params.model_fields)
    extra = {"confirmation_token"} if action.may_need_confirmation else set()
    assert set(properties) == fields | extra
    required = {n for n, f in action.params.model_fields.items() if f.is_required()}
    assert set(tool.input_schema.get("required", [])) == required
    for field_name, field in action.params.model_fields.items():
        if field.description:
            described = properties[field_name]["description"]
            assert described == wording.tool_names(field.description)
    assert tool.title == action.title
    assert "title" not in properties.get("number", {})


def properties_of(schema: dict[str, Any], path: str = "") -> list[tuple[str, Any]]:
    """Every property of a schema, nested ones included, with its path."""
    found = []
    for name, sub in schema.get("properties", {}).items():
        found.append((f"{path}{name}", sub))
        found += properties_of(sub, f"{path}{name}.")
        found += properties_of(sub.get("items", {}), f"{path}{name}[].")
    return found


async def test_every_argument_is_described_naming_tools_not_actions(
    harness: Harness,
) -> None:
    tools = await listed(harness, "modern", "admin", admin=True)

    for tool in tools.values():
        texts = [tool.description or ""]
        for path, sub in properties_of(tool.input_schema):
            assert sub.get("description"), f"{tool.name}: {path}"
            texts.append(sub["description"])
        for text in texts:
            assert not re.search(r"\bthe [a-z]+ action\b", text), text
    assert "use jarvice_tail" in (tools["jarvice_output"].description or "")
    assert "Deprecated" not in ACTIONS["action"].summary
    assert (tools["jarvice_action"].description or "").count("eprecated") == 1
    assert "At most 50 jobs" in (tools["jarvice_jobs"].description or "")


async def test_bounds_of_the_parameter_model_are_in_the_schema(
    harness: Harness,
) -> None:
    tools = await listed(harness, "modern")

    number = tools["jarvice_status"].input_schema["properties"]["number"]
    assert number["type"] == "integer"
    assert number["minimum"] == 1
    signal = tools["jarvice_signal"].input_schema["properties"]["signal"]
    assert (signal["minimum"], signal["maximum"], signal["default"]) == (1, 64, 20)
    sort = tools["jarvice_vault"].input_schema["properties"]["sort"]
    assert sort["enum"] == ["n", "s", "m", "N", "S", "M"]


@pytest.mark.parametrize("name", sorted(ACTIONS))
async def test_annotations_follow_the_guard(harness: Harness, name: str) -> None:
    action = ACTIONS[name]
    tools = await listed(harness, "legacy", "admin", admin=True)
    hints = tools[f"jarvice_{name}"].annotations
    assert hints is not None

    assert bool(hints.read_only_hint) is (not action.changes_state)
    if action.changes_state:
        overwrites = name in OVERWRITING
        assert hints.destructive_hint is (action.may_need_confirmation or overwrites)
        assert not hints.idempotent_hint
    assert hints.open_world_hint in (None, True)


@pytest.mark.parametrize("name", sorted(ACTIONS))
async def test_json_results_have_an_object_output_schema(
    harness: Harness, name: str
) -> None:
    action = ACTIONS[name]
    tools = await listed(harness, "modern", "admin", admin=True)
    schema = tools[f"jarvice_{name}"].output_schema

    if action.kind in (ResultKind.TEXT, ResultKind.PNG):
        assert schema is None
    else:
        assert schema is not None
        assert schema["type"] == "object"
        assert schema["properties"]


async def test_read_only_registers_no_tool_that_changes_anything(
    harness: Harness, era: str
) -> None:
    tools = await listed(harness, era, "admin", admin=True, read_only=True)

    assert set(tools) == expected(admin=True, read_only=True)
    assert all(
        tool.annotations and tool.annotations.read_only_hint for tool in tools.values()
    )


@pytest.mark.parametrize("toolset", TOOLSETS)
async def test_toolsets_pick_their_actions(harness: Harness, toolset: str) -> None:
    tools = await listed(harness, "modern", "admin", admin=True, toolsets=toolset)

    wanted = {f"jarvice_{a.name}" for a in ACTIONS.values() if a.toolset == toolset}
    if toolset == "jobs":
        wanted |= EXTRAS
    assert set(tools) == wanted


async def test_admin_toolset_without_an_admin_registers_nothing(
    harness: Harness,
) -> None:
    tools = await listed(harness, "modern", "alice", toolsets="admin")

    assert tools == {}


async def test_every_destructive_tool_is_covered_by_the_gates(harness: Harness) -> None:
    everything = await listed(harness, "modern", "admin", admin=True)
    read_only = await listed(harness, "modern", "admin", admin=True, read_only=True)
    destructive = {name for name, tool in everything.items() if may_destroy(tool)}
    confirm_tools = {
        f"jarvice_{a.name}" for a in ACTIONS.values() if a.may_need_confirmation
    }

    assert destructive == confirm_tools | {"jarvice_pull"}
    assert confirm_tools == {
        "jarvice_terminate",
        "jarvice_shutdown",
        "jarvice_build",
        "jarvice_signal",
    }
    assert not destructive & set(read_only)
    for name in destructive:
        properties = everything[name].input_schema["properties"]
        assert "confirm" not in properties


async def test_default_tool_list_fits_in_a_bounded_size(harness: Harness) -> None:
    """bench/mcp_listsize.py measures 23,645 bytes (bench/RESULTS.md)."""
    async with connect(harness.server("alice"), "modern") as client:
        result = await client.list_tools()
    size = len(result.model_dump_json(by_alias=True, exclude_none=True))

    assert size < 24_000
