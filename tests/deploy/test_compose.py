"""deploy/compose.yaml, checked without Docker: valid against the Compose
Specification's own JSON schema (vendored in tests/deploy/schemas/), its
services, profiles, ports, variables and secrets against the code's settings
and the operator docs, and deploy/compose.env.example's instructions for the
MCP secrets followed to the letter."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
import subprocess
import sys
from typing import Any

import jsonschema
import pytest

from mcp_server.config import ServerConfig
from mcp_server.identity import TokenFile
from tests.deploy.envscan import scan
from tests.deploy.support import DEPLOY, DOCS, ROOT, load_yaml

COMPOSE_SCHEMA = json.loads(
    (ROOT / "tests" / "deploy" / "schemas" / "compose-spec.schema.json").read_text()
)

COMPOSE = load_yaml(DEPLOY / "compose.yaml")
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
TEXT = (DEPLOY / "compose.yaml").read_text()
EXAMPLE = (DEPLOY / "compose.env.example").read_text()
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(:?[-?][^}]*)?\}")
SECRETS = {
    "SLACK_BOT_TOKEN",
    "JARVICE_TOOLS_ENCRYPTION_KEY",
    "POSTGRES_PASSWORD",
    "JARVICE_MCP_TOKENS",
    "JARVICE_MCP_STATE_KEYS",
}


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    jsonschema.Draft7Validator.check_schema(COMPOSE_SCHEMA)
    jsonschema.Draft7Validator(COMPOSE_SCHEMA).validate(COMPOSE)


@pytest.mark.parametrize(
    ("service", "key", "value"),
    [
        ("slack", "read_onyl", True),
        ("slack", "depends_on", {"postgres": {"condition": "healthy"}}),
        ("mcp", "ports", "127.0.0.1:8000:8000"),
    ],
)
def test_the_compose_schema_catches_mistakes(
    service: str, key: str, value: object
) -> None:
    broken = copy.deepcopy(COMPOSE)
    broken["services"][service][key] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(COMPOSE_SCHEMA).validate(broken)


def test_docs_name_the_compose_version_the_file_needs() -> None:
    assert "name" in COMPOSE  # top-level project name
    assert any(
        dependency.get("required") is False
        for service in SERVICES.values()
        for dependency in service.get("depends_on", {}).values()
    )
    assert "Docker Compose v2.20 or newer" in " ".join(DOCS.read_text().split())


def test_services_and_the_sandbox_profile() -> None:
    assert set(SERVICES) == {"postgres", "slack", "mcp", "sandbox"}
    assert SERVICES["sandbox"]["profiles"] == ["sandbox"]
    assert all("profiles" not in SERVICES[s] for s in ("postgres", "slack", "mcp"))


def test_app_services_build_the_one_image_locked_down() -> None:
    for name in ("slack", "mcp", "sandbox"):
        service = SERVICES[name]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert (DEPLOY / ".." / service["build"]["dockerfile"]).is_file()
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]


def test_commands_match_the_services() -> None:
    assert SERVICES["slack"]["command"][0] == "jarvice-slack"
    assert SERVICES["mcp"]["command"][:3] == ["jarvice-mcp", "--transport", "http"]
    assert SERVICES["sandbox"]["command"][0] == "jarvice-sandbox"


def test_slack_uses_postgres_once_it_is_healthy() -> None:
    slack = SERVICES["slack"]
    assert slack["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert slack["environment"]["DATABASE_URL"].startswith(
        "postgresql+psycopg://jarvice:${POSTGRES_PASSWORD}@postgres:5432/"
    )
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])
    for name in ("slack", "mcp"):
        assert SERVICES[name]["depends_on"]["sandbox"]["required"] is False


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_ports_are_published_on_loopback_only(name: str) -> None:
    for port in SERVICES[name].get("ports", []):
        assert port.startswith("127.0.0.1:"), port


def test_every_interpolated_variable_is_in_the_env_example() -> None:
    used = {m.group(1) for m in INTERPOLATION.finditer(TEXT)}
    example = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", EXAMPLE, re.MULTILINE))
    assert used == example


def test_secrets_are_required_and_never_given_a_default() -> None:
    for match in INTERPOLATION.finditer(TEXT):
        name, rule = match.group(1), match.group(2) or ""
        if name in SECRETS and rule:
            assert rule.startswith(":?"), f"{name} must be required, not defaulted"
    for name in SECRETS:
        assert re.search(rf"^{name}=$", EXAMPLE, re.MULTILINE), name


def test_app_environment_is_what_the_code_reads_and_the_docs_list() -> None:
    code = scan(sorted((ROOT / "slack_bot").rglob("*.py"))) | scan(
        sorted((ROOT / "jarvice_tools").rglob("*.py"))
    )
    docs = DOCS.read_text()
    for name in ("slack", "mcp", "sandbox"):
        for variable in SERVICES[name].get("environment", {}):
            assert f"`{variable}`" in docs, f"{variable} is not in the docs"
    assert set(SERVICES["slack"]["environment"]) <= set(code)


def test_sandbox_health_check_targets_its_own_port() -> None:
    sandbox = SERVICES["sandbox"]
    port = sandbox["command"][sandbox["command"].index("--port") + 1]
    assert sandbox["environment"]["HEALTHCHECK_URL"] == (
        f"http://127.0.0.1:{port}/jarvice/live"
    )
    assert sandbox["ports"] == [f"127.0.0.1:{port}:{port}"]


def example_comment(starting: str) -> str:
    """The text of the env example's comment line that starts so."""
    comments = [
        line.removeprefix("#").strip()
        for line in EXAMPLE.splitlines()
        if line.startswith("#")
    ]
    (found,) = [line for line in comments if line.startswith(starting)]
    return found


def test_the_state_key_recipe_makes_a_key_the_server_accepts() -> None:
    command = example_comment("python3 -c ")
    code = command.removeprefix("python3 -c ").strip("'")
    key = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()

    config = ServerConfig(transport="http", state_keys=key)

    assert len(key) >= 32
    assert [k.get_secret_value() for k in config.state_keys] == [key]
    with pytest.raises(ValueError, match="at least 32 characters"):
        ServerConfig(transport="http", state_keys=key[:31])


def test_the_token_map_example_is_a_token_map_the_server_reads() -> None:
    line = example_comment("JARVICE_MCP_TOKENS=")
    value = line.removeprefix("JARVICE_MCP_TOKENS=")
    # Single quotes keep the JSON literal in a .env file.
    assert value[0] == value[-1] == "'"
    token = secrets.token_urlsafe(32)
    filled = (
        value.strip("'")
        .replace("<64 hex>", hashlib.sha256(token.encode()).hexdigest())
        .replace("<her JARVICE API key>", "apikey-of-alice")
    )

    (entry,) = TokenFile.model_validate_json(filled).users

    assert entry.username == "alice"
    assert entry.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert "--generate-token" in EXAMPLE
