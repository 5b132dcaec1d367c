"""deploy/compose.yaml, checked without a Docker engine (`docker compose
config` needs one): parsed, and its services, profiles, ports, variables and
secrets checked against the code's settings and the operator docs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.envscan import scan
from tests.deploy.support import DEPLOY, DOCS, ROOT, load_yaml

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
