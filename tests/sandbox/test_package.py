"""The package's public surface and its independence from the client."""

from __future__ import annotations

import ast
from pathlib import Path

import jarvice_tools.sandbox as sandbox_package

PACKAGE = Path(sandbox_package.__file__).parent


def test_the_public_api_is_exported() -> None:
    assert sorted(sandbox_package.__all__) == [
        "Account",
        "JobView",
        "ReceivedRequest",
        "SandboxServer",
    ]
    for name in sandbox_package.__all__:
        assert getattr(sandbox_package, name).__module__.startswith(
            "jarvice_tools.sandbox"
        )


def test_the_sandbox_imports_nothing_else_from_jarvice_tools() -> None:
    outside: list[str] = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            outside += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] in ("jarvice_tools", "mcp_server", "slack_bot")
                and not name.startswith("jarvice_tools.sandbox")
            ]

    assert outside == []
