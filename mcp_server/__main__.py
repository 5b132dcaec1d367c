"""`jarvice-mcp`: the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import anyio
from pydantic import ValidationError

from jarvice_tools.actions import TOOLSETS
from mcp_server import wording
from mcp_server.app import configure_logging, serve
from mcp_server.config import ServerConfig
from mcp_server.identity import ConfigurationError, new_token

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    help_ = wording.HELP
    cli = argparse.ArgumentParser(
        prog="jarvice-mcp", description=wording.CLI_DESCRIPTION
    )
    cli.add_argument("--transport", choices=["stdio", "http"], help=help_["transport"])
    cli.add_argument("--host", help=help_["host"])
    cli.add_argument("--port", type=int, help=help_["port"])
    cli.add_argument("--admin", action="store_true", default=None, help=help_["admin"])
    cli.add_argument(
        "--read-only", action="store_true", default=None, help=help_["read_only"]
    )
    cli.add_argument(
        "--toolsets", help=help_["toolsets"].format(choices=", ".join(TOOLSETS))
    )
    cli.add_argument(
        "--confirm-fallback", choices=["token", "deny"], help=help_["confirm_fallback"]
    )
    cli.add_argument("--token-file", help=help_["token_file"])
    cli.add_argument("--allowed-hosts", help=help_["allowed_hosts"])
    cli.add_argument("--allowed-origins", help=help_["allowed_origins"])
    cli.add_argument("--max-output-lines", type=int, help=help_["max_output_lines"])
    cli.add_argument("--max-output-bytes", type=int, help=help_["max_output_bytes"])
    cli.add_argument("--max-wait", type=int, help=help_["max_wait"])
    cli.add_argument("--poll-interval", type=float, help=help_["poll_interval"])
    cli.add_argument(
        "--sandbox", action="store_true", default=None, help=help_["sandbox"]
    )
    cli.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help=help_["log_level"],
    )
    cli.add_argument(
        "--generate-token", action="store_true", help=help_["generate_token"]
    )
    return cli


def load_config(args: argparse.Namespace) -> ServerConfig:
    overrides: dict[str, Any] = {
        key: value
        for key, value in vars(args).items()
        if value is not None and key != "generate_token"
    }
    return ServerConfig(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.generate_token:
        token, digest = new_token()
        sys.stdout.write(wording.generated_token(token, digest) + "\n")
        return 0
    try:
        config = load_config(args)
    except ValidationError as error:
        sys.stderr.write(_config_problems(error) + "\n")
        return 2
    configure_logging(config.log_level)
    try:
        anyio.run(serve, config)
    except ConfigurationError as error:
        sys.stderr.write(f"jarvice-mcp: {error}\n")
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def _config_problems(error: ValidationError) -> str:
    """Each bad setting with its flag and variable, never its value."""
    flags = set(vars(parser().parse_args([])))
    lines = ["jarvice-mcp: invalid configuration:"]
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        variable = ServerConfig.model_fields.get(field)
        alias = variable.validation_alias if variable else None
        names = [alias if isinstance(alias, str) else f"JARVICE_MCP_{field.upper()}"]
        if field in flags:
            names.insert(0, f"--{field.replace('_', '-')}")
        lines.append(f"  {field} ({' or '.join(names)}): {message}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
