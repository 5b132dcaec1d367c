"""Running the server: stdio or streamable HTTP, against JARVICE or against
the built-in sandbox (demo mode)."""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import httpx
from mcp.server.transport_security import TransportSecuritySettings

from jarvice_tools.client import JarviceClient
from jarvice_tools.redact import install_handler_redaction
from jarvice_tools.settings import Caller, Credentials, JarviceSettings
from mcp_server import wording
from mcp_server.config import LOOPBACK_HOSTS, ServerConfig
from mcp_server.confirm import ConfirmationTokens, mask_tokens
from mcp_server.identity import (
    ConfigurationError,
    Identities,
    Principal,
    load_identities,
    new_token,
    token_digest,
)
from mcp_server.runtime import Runtime

if TYPE_CHECKING:
    from jarvice_tools.health import ASGIApp
from mcp_server.server import JarviceMCPServer, build_server

__all__ = [
    "HttpService",
    "Started",
    "configure_logging",
    "http_app",
    "open_runtime",
    "serve",
]

logger = logging.getLogger("mcp_server")

SANDBOX_USER = "alice"
SANDBOX_ADMIN = "admin"
MCP_PATH = "/mcp"


def configure_logging(level: str) -> None:
    """Everything to stderr: on stdio, stdout carries the protocol."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_handler_redaction(root)
    mask_tokens(handler)


@dataclass(frozen=True)
class Started:
    """A runtime, and in demo mode over HTTP the sandbox users' tokens."""

    runtime: Runtime
    tokens: dict[str, str]


@asynccontextmanager
async def open_runtime(config: ServerConfig) -> AsyncIterator[Started]:
    """The runtime for `config`: a JARVICE client for the configured
    JARVICE (or a sandbox started now, in this loop) and the identities."""
    async with AsyncExitStack() as stack:
        if config.sandbox:
            from jarvice_tools.sandbox import SandboxServer

            sandbox = await stack.enter_async_context(SandboxServer(clock="real"))
            settings = JarviceSettings(api_url=sandbox.url)
            identities, tokens = _sandbox_identities(config, sandbox)
        else:
            settings = JarviceSettings()
            identities = load_identities(config, settings)
            tokens = {}
        default = identities.default
        if config.transport == "stdio" and (default is None or default.caller is None):
            logger.warning(wording.NO_CREDENTIALS)
        caller = default.caller if default else None

        def make_client() -> JarviceClient:
            return JarviceClient(
                settings.api_url,
                caller=caller,
                timeout=settings.timeout,
                transport=_metered() if config.transport == "http" else None,
            )

        runtime = Runtime(
            config=config,
            identities=identities,
            client_or_factory=make_client,
            tokens=ConfirmationTokens(ttl=config.confirm_token_ttl),
        )
        stack.push_async_callback(runtime.aclose)
        yield Started(runtime, tokens)


def _metered() -> httpx.AsyncBaseTransport:
    """Counts and times JARVICE calls for /metrics (served over HTTP only;
    imported here so that stdio starts without it)."""
    from jarvice_tools.metrics import MeteredTransport

    return MeteredTransport()


def _sandbox_identities(
    config: ServerConfig, sandbox: object
) -> tuple[Identities, dict[str, str]]:
    """Sandbox users as identities: on stdio one user (the system admin with
    --admin), over HTTP a fresh token for alice and one for the admin."""
    accounts = {a.username: a for a in sandbox.accounts}  # type: ignore[attr-defined]

    def caller(username: str) -> Caller:
        account = accounts[username]
        credentials = Credentials(username=username, apikey=account.apikey)
        return Caller(credentials=credentials, admin=account.role == "system_admin")

    if config.transport == "stdio":
        username = SANDBOX_ADMIN if config.admin else SANDBOX_USER
        return Identities(default=Principal(f"stdio:{username}", caller(username))), {}

    user_token = config.token.get_secret_value() if config.token else new_token()[0]
    admin_token = new_token()[0]
    by_digest = {
        token_digest(user_token): Principal(
            f"token:{SANDBOX_USER}", caller(SANDBOX_USER)
        ),
        token_digest(admin_token): Principal(
            f"token:{SANDBOX_ADMIN}", caller(SANDBOX_ADMIN)
        ),
    }
    tokens = {SANDBOX_USER: user_token, SANDBOX_ADMIN: admin_token}
    return Identities(by_digest=by_digest), tokens


def _command() -> str:
    """The path of this `jarvice-mcp`, for a client configuration."""
    found = shutil.which("jarvice-mcp")
    program = Path(sys.argv[0])
    if program.name == "jarvice-mcp":
        return str(program.resolve())
    return found or "jarvice-mcp"


LOOPBACK_HOST_PATTERNS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")


def transport_security(config: ServerConfig) -> TransportSecuritySettings:
    """Host/Origin checks: the configured hosts, and loopback always (only
    a client on the same host, or `kubectl port-forward`, sends a loopback
    Host: a DNS-rebinding page sends its own name); loopback Origins unless
    Origins are configured."""
    if not config.allowed_hosts and config.host not in LOOPBACK_HOSTS:
        logger.warning(wording.OPEN_HOST.format(host=config.host))
    hosts = [*config.allowed_hosts, *LOOPBACK_HOST_PATTERNS]
    origins = list(config.allowed_origins) or list(LOOPBACK_ORIGINS)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=origins,
    )


def http_app(server: JarviceMCPServer, runtime: Runtime) -> ASGIApp:
    """The ASGI app: stateless streamable HTTP at /mcp with SSE responses
    (so progress notifications arrive), and the operations routes /health,
    /ready (JARVICE answers) and /metrics."""
    from jarvice_tools.health import jarvice_check, with_ops_routes

    config = runtime.config
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=False,
        transport_security=transport_security(config),
        host=config.host,
    )
    return with_ops_routes(app, checks={"jarvice": jarvice_check(runtime.client)})


class HttpService:
    """The HTTP app served by uvicorn in the current event loop."""

    def __init__(self, server: JarviceMCPServer, runtime: Runtime) -> None:
        import uvicorn

        self.config = config = runtime.config
        uv_config = uvicorn.Config(
            http_app(server, runtime),
            host=config.host,
            port=config.port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        self._uvicorn = uvicorn.Server(uv_config)
        self._failed = False

    async def run(
        self, *, on_ready: Callable[[str], Awaitable[None]] | None = None
    ) -> None:
        """Serve until `stop()` (or a signal); `on_ready(base_url)` once
        listening. `ConfigurationError` if it cannot listen."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._serve)
            while not self._uvicorn.started:
                if self._uvicorn.should_exit:
                    break
                await anyio.sleep(0.01)
            if self._uvicorn.started and on_ready is not None:
                await on_ready(self.base_url)
        if self._failed:
            host, port = self.config.host, self.config.port
            raise ConfigurationError(wording.cannot_listen(host, port))

    async def _serve(self) -> None:
        """uvicorn logs why it could not start, then exits the process:
        here that becomes a readable error instead of a traceback."""
        try:
            await self._uvicorn.serve()
        except SystemExit:
            self._failed = True
            self._uvicorn.should_exit = True

    @property
    def base_url(self) -> str:
        port = self._uvicorn.servers[0].sockets[0].getsockname()[1]
        host = self.config.host
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def stop(self) -> None:
        self._uvicorn.should_exit = True


async def serve(config: ServerConfig) -> None:
    """Run `jarvice-mcp` as configured until stopped."""
    async with open_runtime(config) as started:
        server = build_server(started.runtime)
        if config.transport == "stdio":
            if config.sandbox:
                default = started.runtime.identities.default
                user = default.id.removeprefix("stdio:") if default else "?"
                logger.info(wording.sandbox_banner_stdio(user))
            await server.run_stdio_async()
            return

        async def announce(base: str) -> None:
            if started.tokens:
                url = f"{base}{MCP_PATH}"
                text = wording.sandbox_banner_http(url, started.tokens, _command())
                sys.stderr.write(text + "\n")
                sys.stderr.flush()
            logger.info("Serving MCP at %s%s", base, MCP_PATH)

        await HttpService(server, started.runtime).run(on_ready=announce)
