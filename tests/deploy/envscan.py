"""Which environment variables the code reads, found by reading the code.

Two patterns cover how this project reads settings:
- pydantic-settings classes: `env_prefix` + each field name (or its alias);
- direct reads: `os.environ[...]`, `os.environ.get(...)`, `os.getenv(...)`,
  and any `get(...)`, `getenv(...)` or `pop(...)` call, or `env[...]`
  subscript, whose first argument is an UPPER_SNAKE string literal (the
  Slack settings read through a local `get`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
READERS = {"get", "getenv", "pop", "setdefault"}
MAPPINGS = {"environ", "env", "environment"}


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if ENV_NAME.match(node.value) else None
    return None


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _keyword(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            value = keyword.value.value
            return value if isinstance(value, str) else None
    return None


def _aliases(call: ast.Call) -> set[str]:
    """Names a Field(...) reads instead of its own: alias, validation_alias,
    or every string in AliasChoices(...)."""
    found = set()
    for keyword in call.keywords:
        if keyword.arg not in ("alias", "validation_alias"):
            continue
        value = keyword.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.add(value.value)
        elif isinstance(value, ast.Call) and _name(value.func) == "AliasChoices":
            found |= {
                arg.value
                for arg in value.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            }
    return found


def _settings_vars(cls: ast.ClassDef) -> set[str]:
    prefix = ""
    fields: list[tuple[str, set[str]]] = []
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and any(
            _name(t) == "model_config" for t in stmt.targets
        ):
            if isinstance(stmt.value, ast.Call):
                prefix = _keyword(stmt.value, "env_prefix") or ""
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name = stmt.target.id
            if name == "model_config" or "ClassVar" in ast.unparse(stmt.annotation):
                continue
            aliases = (
                _aliases(stmt.value) if isinstance(stmt.value, ast.Call) else set()
            )
            fields.append((name, aliases))
    found: set[str] = set()
    for name, aliases in fields:
        found |= {a.upper() for a in aliases} or {f"{prefix}{name}".upper()}
    return found


def env_reads(tree: ast.AST) -> set[str]:
    """Environment variable names one module reads."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            _name(base) == "BaseSettings" for base in node.bases
        ):
            found |= _settings_vars(node)
        elif isinstance(node, ast.Call) and _name(node.func) in READERS and node.args:
            name = _literal(node.args[0])
            if name:
                found.add(name)
        elif isinstance(node, ast.Subscript) and _name(node.value) in MAPPINGS:
            name = _literal(node.slice)
            if name:
                found.add(name)
    return found


def scan(paths: Iterable[Path]) -> dict[str, set[Path]]:
    """Variable name -> the files that read it."""
    reads: dict[str, set[Path]] = {}
    for path in paths:
        for name in env_reads(ast.parse(path.read_text(), filename=str(path))):
            reads.setdefault(name, set()).add(path)
    return reads
