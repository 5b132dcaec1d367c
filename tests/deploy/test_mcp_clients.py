"""deploy/mcp/: client configurations parse, start the checkout's own
command (the package is not on PyPI) with settings the server reads, reach
the hosted server with a bearer token and never a literal secret; the
one-line installs in its README agree with the files; server.json is valid
against the MCP registry's own schema, and README.md carries the line the
registry checks for PyPI ownership."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jsonschema
import pytest

from tests.deploy.support import DEPLOY, DOCS, ROOT

MCP = DEPLOY / "mcp"
README = (MCP / "README.md").read_text()
PROSE = " ".join(README.split())  # its sentences, whatever the line breaks
CLIENTS = ("claude-desktop", "claude-code", "vscode", "cursor")
# Where the stdio configurations expect the user's checkout; `make` builds
# its .venv there.
CHECKOUT = "/path/to/jarvice-tools"
COMMAND = f"{CHECKOUT}/.venv/bin/jarvice-mcp"
REGISTRY_SCHEMA = json.loads(
    (
        Path(__file__).parent / "schemas" / "mcp-registry-server-2025-12-11.schema.json"
    ).read_text()
)
with (ROOT / "pyproject.toml").open("rb") as _handle:
    PROJECT = tomllib.load(_handle)["project"]


def config(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MCP / name).read_text())
    return data


def server_of(data: dict[str, Any]) -> dict[str, Any]:
    servers = data.get("mcpServers") or data["servers"]
    assert list(servers) == ["jarvice"]
    entry: dict[str, Any] = servers["jarvice"]
    return entry


def test_every_json_file_parses() -> None:
    names = sorted(p.name for p in MCP.glob("*.json"))
    expected = [f"{c}.{kind}.json" for c in CLIENTS for kind in ("http", "stdio")]
    assert names == sorted([*expected, "server.json"])
    for name in names:
        config(name)


@pytest.mark.parametrize("client", CLIENTS)
def test_stdio_configs_start_the_checkouts_jarvice_mcp_with_the_users_settings(
    client: str,
) -> None:
    server = server_of(config(f"{client}.stdio.json"))
    assert server["command"] == COMMAND
    assert server["args"] == []
    docs = DOCS.read_text()
    assert {"JARVICE_USERNAME", "JARVICE_APIKEY"} <= set(server["env"])
    for name in server["env"]:
        assert f"`{name}`" in docs


def test_the_stdio_command_is_what_make_installs_in_the_checkout() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^VENV := \.venv$", makefile, re.MULTILINE)
    assert "jarvice-mcp" in PROJECT["scripts"]
    installed = Path(COMMAND.replace(CHECKOUT, str(ROOT)))
    done = subprocess.run(
        [str(installed), "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "--transport" in done.stdout


def test_no_set_up_installs_the_unpublished_name_from_pypi() -> None:
    texts = [
        p.read_text() for p in sorted(MCP.glob("*.json")) if p.name != "server.json"
    ]
    texts += [README, DOCS.read_text(), (ROOT / "README.md").read_text()]
    for text in texts:
        assert "uvx --from jarvice-tools" not in text
        assert "--from', 'jarvice-tools" not in text
        assert '"jarvice-tools[mcp]"' not in text
        assert "pip install 'jarvice-tools" not in text
        assert "pipx install" not in text
    assert "`jarvice-tools` is **not on PyPI**" in PROSE
    assert CHECKOUT in README


@pytest.mark.parametrize("client", CLIENTS)
def test_http_configs_send_a_bearer_token_from_a_placeholder(client: str) -> None:
    server = server_of(config(f"{client}.http.json"))
    text = json.dumps(server)
    assert "https://mcp.jarvice.example.org/mcp" in text
    if client == "claude-desktop":
        assert server["args"][:2] == ["-y", "mcp-remote"]
        assert "Authorization:${JARVICE_MCP_AUTH}" in server["args"]
        assert server["env"]["JARVICE_MCP_AUTH"] == "Bearer your-token"
        return
    auth = server["headers"]["Authorization"]
    assert re.fullmatch(r"Bearer \$\{(input:|env:)?[a-zA-Z_-]+\}", auth), auth
    assert "JARVICE_APIKEY" not in text


def test_vscode_secrets_are_asked_for_as_passwords() -> None:
    for kind in ("stdio", "http"):
        data = config(f"vscode.{kind}.json")
        ids = {i["id"]: i for i in data["inputs"]}
        used = set(re.findall(r"\$\{input:([\w-]+)\}", json.dumps(data["servers"])))
        assert used == set(ids)
        secret = [i for i in ids.values() if "key" in i["id"] or "token" in i["id"]]
        assert secret
        assert all(i.get("password") is True for i in secret)


def one_liners(prefix: str) -> list[str]:
    return [
        line.strip() for line in README.splitlines() if line.strip().startswith(prefix)
    ]


def test_cursor_install_links_carry_the_cursor_configs() -> None:
    links = one_liners("cursor://anysphere.cursor-deeplink/mcp/install?")
    assert len(links) == 2
    decoded = []
    for link in links:
        query = parse_qs(urlparse(link).query)
        assert query["name"] == ["jarvice"]
        decoded.append(json.loads(base64.b64decode(query["config"][0])))
    assert decoded == [
        server_of(config("cursor.stdio.json")),
        server_of(config("cursor.http.json")),
    ]


def test_vscode_add_mcp_lines_match_the_vscode_configs() -> None:
    lines = one_liners("code --add-mcp ")
    assert len(lines) == 2
    for line, kind in zip(lines, ("stdio", "http"), strict=True):
        given = json.loads(line.removeprefix("code --add-mcp ").strip("'"))
        assert given.pop("name") == "jarvice"
        expected = server_of(config(f"vscode.{kind}.json"))
        assert set(given) == set(expected)
        assert given.get("command") == expected.get("command")
        assert given.get("args") == expected.get("args")
        assert given.get("url") == expected.get("url")


def test_claude_code_lines_name_the_same_command_and_url() -> None:
    stdio, http = one_liners("claude mcp add ")
    assert stdio.endswith(f"-- {COMMAND}")
    assert "--env JARVICE_USERNAME=" in stdio
    assert "--env JARVICE_APIKEY=" in stdio
    url = server_of(config("claude-code.http.json"))["url"]
    assert f"--transport http jarvice {url}" in http
    assert '--header "Authorization: Bearer TOKEN"' in http


def test_claude_desktop_line_merges_into_an_existing_config(tmp_path: Path) -> None:
    (line,) = one_liners("python3 -c ")
    target = tmp_path / "Library" / "Application Support" / "Claude"
    target.mkdir(parents=True)
    existing = {"mcpServers": {"other": {"command": "x"}}, "theme": "dark"}
    (target / "claude_desktop_config.json").write_text(json.dumps(existing))
    code = line.split("'")[1]
    subprocess.run(
        [sys.executable, "-c", code, str(MCP / "claude-desktop.stdio.json")],
        env={**os.environ, "HOME": str(tmp_path)},
        check=True,
        cwd=ROOT,
    )
    merged = json.loads((target / "claude_desktop_config.json").read_text())
    assert merged["theme"] == "dark"
    assert merged["mcpServers"]["other"] == {"command": "x"}
    assert merged["mcpServers"]["jarvice"] == server_of(
        config("claude-desktop.stdio.json")
    )


def test_server_json_is_valid_against_the_registry_schema() -> None:
    server = config("server.json")
    assert server["$schema"] == REGISTRY_SCHEMA["$id"]
    jsonschema.Draft7Validator.check_schema(REGISTRY_SCHEMA)
    jsonschema.Draft7Validator(REGISTRY_SCHEMA).validate(server)


def test_server_json_agrees_with_the_project() -> None:
    server = config("server.json")
    (package,) = server["packages"]
    assert package["registryType"] == "pypi"
    assert package["identifier"] == PROJECT["name"]
    assert package["version"] == server["version"] == PROJECT["version"]
    assert package["transport"] == {"type": "stdio"}
    docs = DOCS.read_text()
    for variable in package["environmentVariables"]:
        assert f"`{variable['name']}`" in docs
    apikey = next(
        v for v in package["environmentVariables"] if v["name"] == "JARVICE_APIKEY"
    )
    assert apikey["isSecret"] is True
    (remote,) = server["remotes"]
    assert remote["url"].endswith("/mcp")
    placeholders = set(re.findall(r"\{(\w+)\}", remote["url"]))
    assert placeholders == set(remote["variables"])
    (auth,) = remote["headers"]
    assert auth["name"] == "Authorization"
    assert auth["isSecret"] is True


def test_the_package_readme_names_the_server_for_the_registry() -> None:
    """The registry accepts a PyPI package for a server only when the
    package's README (its PyPI description) holds `mcp-name: <name>`."""
    readme = (ROOT / PROJECT["readme"]).read_text()
    names = re.findall(r"mcp-name: (\S+?)(?=\s|-->|<|$)", readme)
    assert names == [config("server.json")["name"]]
    assert "server.json" in README
    assert "It is for when the package is published" in PROSE
