"""Paths and small readers shared by the deploy tests."""

from __future__ import annotations

import importlib.util
import socket
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "jarvice-tools"
DOCS = ROOT / "docs" / "operators.md"
PORTS = range(18700, 18800)  # where this project's tests may listen


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def console_scripts() -> set[str]:
    """The commands pyproject.toml installs."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return set(tomllib.load(handle)["project"].get("scripts", {}))


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """A container's env entries by name (value or valueFrom)."""
    return {
        entry["name"]: entry.get("value", entry.get("valueFrom"))
        for entry in container.get("env", [])
    }


def load_script(path: Path) -> ModuleType:
    """Import a script under deploy/ (not a package) by its path."""
    spec = importlib.util.spec_from_file_location(f"deploy_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A loopback port in the project's test range that nothing listens on."""
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")
