"""docs/operators.md lists every environment variable the code reads, with
who reads it, its default and what it holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.deploy.envscan import env_reads, scan
from tests.deploy.support import DEPLOY, DOCS, ROOT

PACKAGES = ("jarvice_tools", "mcp_server", "slack_bot")
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|(.*)$")


def code_files() -> list[Path]:
    files = [path for p in PACKAGES for path in sorted((ROOT / p).rglob("*.py"))]
    return files + sorted(DEPLOY.rglob("*.py"))


READS = scan(code_files())


def documented() -> dict[str, list[str]]:
    """Variable -> the cells after its name, from the tables in the docs."""
    rows = {}
    for line in DOCS.read_text().splitlines():
        match = ROW.match(line.strip())
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")]
            rows[match.group(1)] = [cell for cell in cells if cell]
    return rows


DOCUMENTED = documented()


def test_the_scan_finds_the_settings_everyone_knows() -> None:
    assert {
        "JARVICE_API_URL",
        "JARVICE_APIKEY",
        "SLACK_BOT_TOKEN",
        "JARVICE_TOOLS_ENCRYPTION_KEY",
        "DATABASE_URL",
    } <= set(READS)


@pytest.mark.parametrize("name", sorted(READS))
def test_every_variable_the_code_reads_is_documented_with_a_default(
    name: str,
) -> None:
    where = ", ".join(sorted(str(p.relative_to(ROOT)) for p in READS[name]))
    assert name in DOCUMENTED, f"{name} (read in {where}) is not in {DOCS.name}"
    assert len(DOCUMENTED[name]) >= 3, f"{name}: give who reads it, default, meaning"


SAMPLE = """
import os
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")
    api_url: str = "x"
    token: str = Field(default="", validation_alias="OTHER_TOKEN")
    admin: bool = Field(default=False, validation_alias=AliasChoices("X_ADMIN"))

def read(env):
    a = os.environ["FIRST_VAR"]
    b = os.getenv("SECOND_VAR", "1")
    c = env.get("THIRD_VAR")
    d = {"not": 1}.get("lower_case")
    e = os.environ.get("PORT", "3000")
    return a, b, c, d, e
"""


def test_the_scan_understands_settings_classes_and_direct_reads() -> None:
    assert env_reads(ast.parse(SAMPLE)) == {
        "DEMO_API_URL",
        "OTHER_TOKEN",
        "FIRST_VAR",
        "SECOND_VAR",
        "THIRD_VAR",
        "X_ADMIN",
        "PORT",
    }
