"""Every command the deploy files run is a console script the package
installs, and every flag they pass is one that command accepts (read from
its own --help)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.deploy.envscan import scan
from tests.deploy.support import (
    DEPLOY,
    DOCS,
    ROOT,
    console_scripts,
    load_script,
    load_yaml,
)

render = load_script(DEPLOY / "helm" / "render.py")
BIN = Path(sys.executable).parent


@cache
def help_text(command: tuple[str, ...]) -> str:
    found = shutil.which(command[0], path=str(BIN)) or command[0]
    result = subprocess.run(
        [found, *command[1:], "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def flags_of(words: list[str]) -> list[str]:
    return [w.split("=", 1)[0] for w in words if w.startswith("--")]


def deploy_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) for every command line in deploy/."""
    found: list[tuple[str, list[str]]] = []
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    (cmd,) = re.findall(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    found.append(("Dockerfile CMD", json.loads(cmd)))
    for name, service in load_yaml(DEPLOY / "compose.yaml")["services"].items():
        if "command" in service:
            found.append((f"compose {name}", service["command"]))
    for scenario, values in render.scenarios().items():
        for obj in render.manifests(values):
            if obj["kind"] not in {"Deployment", "Job"}:
                continue
            for container in obj["spec"]["template"]["spec"]["containers"]:
                where = f"chart {scenario} {obj['metadata']['name']}"
                found.append((where, container["args"]))
    for path in sorted((DEPLOY / "mcp").glob("*.stdio.json")):
        server = json.loads(path.read_text())
        entry = (server.get("mcpServers") or server["servers"])["jarvice"]
        # The command is the checkout's own, by absolute path: its name.
        found.append((path.name, [Path(entry["command"]).name, *entry["args"]]))
    return found


COMMANDS = deploy_commands()


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_command_is_installed_and_accepts_its_flags(
    where: str, argv: list[str]
) -> None:
    if argv[:3] == ["python", "-m", "slack_bot.store"]:
        text = help_text((sys.executable, "-m", "slack_bot.store"))
        assert argv[3] in text
        return
    assert argv[0] in console_scripts(), f"{where}: {argv[0]} is not installed"
    text = help_text((argv[0],))
    for flag in flags_of(argv[1:]):
        assert re.search(rf"(^|\s|\[){re.escape(flag)}\b", text), (
            f"{where}: {argv[0]} has no {flag}"
        )


def test_flags_the_mcp_readme_suggests_exist() -> None:
    section = (DEPLOY / "mcp" / "README.md").read_text().split("## Flags", 1)[1]
    flags = set(re.findall(r"`(--[a-z-]+)", section.split("##", 1)[0]))
    assert flags == {"--read-only", "--toolsets", "--admin", "--sandbox"}
    text = help_text(("jarvice-mcp",))
    for flag in flags:
        assert flag in text


def test_compose_and_chart_pass_only_settings_the_code_reads() -> None:
    code = set(
        scan(
            path
            for package in ("jarvice_tools", "mcp_server", "slack_bot")
            for path in sorted((ROOT / package).rglob("*.py"))
        )
    )
    services = load_yaml(DEPLOY / "compose.yaml")["services"]
    for name in ("slack", "mcp"):
        assert set(services[name]["environment"]) <= code, name
    values = load_yaml(DEPLOY / "helm" / "jarvice-tools" / "values.yaml")
    for component in ("slack", "mcp"):
        assert set(values[component]["secret"]["keys"]) <= code, component
    for scenario, chart_values in render.scenarios().items():
        for obj in render.manifests(chart_values):
            if obj["kind"] != "Deployment":
                continue
            for container in obj["spec"]["template"]["spec"]["containers"]:
                names = {entry["name"] for entry in container.get("env", [])}
                assert names <= code, f"{scenario}: {sorted(names - code)}"


def test_the_docs_say_which_mcp_variables_have_no_flag() -> None:
    """Each JARVICE_MCP_* variable in docs/operators.md has the flag of the
    same name, except those the docs list as having none."""
    docs = " ".join(DOCS.read_text().split())
    sentence = docs.split("these have none:", 1)[1].split(". ", 1)[0]
    flagless = set(re.findall(r"`(JARVICE_MCP_[A-Z_]+)`", sentence))
    listed = set(re.findall(r"^\| `(JARVICE_MCP_[A-Z_]+)` \|", DOCS.read_text(), re.M))
    text = help_text(("jarvice-mcp",))
    assert flagless
    assert flagless <= listed
    for name in sorted(listed):
        flag = "--" + name.removeprefix("JARVICE_MCP_").lower().replace("_", "-")
        has_flag = re.search(rf"(^|\s){re.escape(flag)}(?![\w-])", text) is not None
        assert has_flag == (name not in flagless), name
