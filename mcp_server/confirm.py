"""Asking a person before a confirm-guarded action runs.

When the client can elicit, the person is asked through the SDK's `Resolve`
+ `Elicit` (an input-required round trip on 2026-07-28, `elicitation/create`
on older protocol versions) and shown what will happen. Only an accepted
"yes" becomes a `jarvice_tools.guards.Confirmation`.

When it cannot, the configured fallback applies: `deny` refuses; `token`
answers the first call with the preview and a one-time token bound to the
action, its exact arguments and the principal, and only a second call
carrying that token, before it expires, runs the action. A token is spent by
any attempt to use it.

On 2026-07-28 the person's answer comes back with the sealed `requestState`
of the round that asked. `SingleUseStates` gives each sealed state a fresh
nonce and a short expiry and opens each nonce once in this process, so a
client that sends the answered round again (a retry after a lost response,
say) gets a protocol error instead of a second run. Replicas share keys but
not memory: on another replica an answered round is accepted again until it
expires, and then only if the question it answered still reads the same
(the SDK re-asks when it does not; the question holds the job's status, name,
start time, machine and application). docs/mcp.md states that window.
"""

from __future__ import annotations

import logging
import re
import secrets
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mcp.server.mcpserver import Context
from mcp.server.request_state import AESGCMRequestStateCodec, InvalidRequestState
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from mcp_server import wording

__all__ = [
    "ConfirmAnswer",
    "ConfirmationTokens",
    "NotAsked",
    "SingleUseStates",
    "TokenMask",
    "TokenRefused",
    "can_elicit",
    "lacks_back_channel",
    "mask_tokens",
]

INPUT_REQUIRED_VERSION = "2026-07-28"
STATE_TTL = 120.0
"""Seconds a sealed requestState is valid: time enough to read a short
question and answer it (the SDK's default is 600), and the longest another
replica would accept an answered round again."""


class ConfirmAnswer(BaseModel):
    """What the person is asked to fill in: one yes/no."""

    confirm: bool = Field(
        title=wording.CONFIRM_FIELD_TITLE, description=wording.CONFIRM_FIELD
    )


@dataclass(frozen=True)
class NotAsked:
    """The resolver's answer when the client cannot be asked."""


def uses_input_required(ctx: Context) -> bool:
    version = ctx.protocol_version
    return version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION)


def lacks_back_channel(ctx: Context) -> bool:
    """A handshake-era request that the server cannot answer with a question
    (stateless HTTP): whether the client could elicit is then unknown, as
    its capabilities came with an initialize this request does not carry."""
    return not uses_input_required(ctx) and not ctx.session.can_send_request


def can_elicit(ctx: Context) -> bool:
    """Whether this request's client can ask its user a question now."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None:
        return False
    if elicitation.form is None and elicitation.url is not None:
        return False
    return not lacks_back_channel(ctx)


class TokenRefused(Exception):
    """A confirmation token that does not authorise this call."""


@dataclass(frozen=True)
class _Issued:
    action: str
    fingerprint: str
    principal: str
    expires_at: float


TOKEN_PREFIX = "confirm-"
_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]+")


class TokenMask(logging.Filter):
    """Masks confirmation tokens in log records: the SDK logs every refused
    call's message at INFO, and the first answer of the token fallback
    holds the token the model must send back."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_PREFIX in message:
            record.msg, record.args = _TOKEN.sub(TOKEN_PREFIX + "***", message), ()
        return True


def mask_tokens(logger: logging.Logger | logging.Handler) -> None:
    """Add one `TokenMask` to `logger` (or a handler), once."""
    if not any(isinstance(f, TokenMask) for f in logger.filters):
        logger.addFilter(TokenMask())


class ConfirmationTokens:
    """One-time confirmation tokens, kept in this process only: a token
    issued by another replica is unknown here and refused."""

    def __init__(
        self, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._issued: dict[str, _Issued] = {}
        self._lock = threading.Lock()

    def issue(self, action: str, fingerprint: str, principal: str) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(12)
        with self._lock:
            self._drop_expired()
            self._issued[token] = _Issued(
                action, fingerprint, principal, self._clock() + self.ttl
            )
        return token

    def redeem(
        self, token: str, action: str, fingerprint: str, principal: str, tool: str
    ) -> None:
        """Spend `token`; raise `TokenRefused` unless it fits this exact call."""
        with self._lock:
            issued = self._issued.pop(token.strip(), None)
        if issued is None:
            raise TokenRefused(wording.TOKEN_UNKNOWN.format(tool=tool))
        if self._clock() > issued.expires_at:
            raise TokenRefused(wording.TOKEN_EXPIRED.format(tool=tool))
        if (issued.action, issued.fingerprint, issued.principal) != (
            action,
            fingerprint,
            principal,
        ):
            raise TokenRefused(wording.TOKEN_MISMATCH.format(tool=tool))

    def __len__(self) -> int:
        return len(self._issued)

    def _drop_expired(self) -> None:
        now = self._clock()
        expired = [t for t, issued in self._issued.items() if issued.expires_at < now]
        for token in expired:
            del self._issued[token]


class SingleUseStates:
    """The SDK's AES-GCM request-state codec, each state opening once, briefly.

    The SDK checks a state's expiry, request and principal, but a state that
    carried a yes could be sent again with the same answer and run the
    action again. Here every sealed state holds a fresh random nonce and its
    own expiry (wall-clock time, which replicas share); a state past its
    expiry, or whose nonce this process has opened before, fails like a
    forged one. Opened nonces are remembered until they expire; another
    replica, with its own memory, does not know them.
    """

    def __init__(
        self,
        keys: Sequence[str | bytes],
        *,
        ttl: float = STATE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._codec = AESGCMRequestStateCodec(keys)
        self._ttl = ttl
        self._clock = clock
        self._opened: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def seal(self, payload: bytes) -> str:
        nonce = secrets.token_bytes(_NONCE)
        expires = struct.pack(_EXPIRY, self._clock() + self._ttl)
        return self._codec.seal(nonce + expires + payload)

    def unseal(self, token: str) -> bytes:
        opened = self._codec.unseal(token)
        if len(opened) < _HEADER:
            raise InvalidRequestState("malformed")
        nonce, payload = opened[:_NONCE], opened[_HEADER:]
        (expires_at,) = struct.unpack(_EXPIRY, opened[_NONCE:_HEADER])
        now = self._clock()
        if not now < expires_at:
            raise InvalidRequestState("expired")
        with self._lock:
            self._opened = {n: t for n, t in self._opened.items() if t > now}
            if nonce in self._opened:
                raise InvalidRequestState("requestState already used")
            self._opened[nonce] = expires_at
        return payload


_NONCE = 16
_EXPIRY = ">d"
_HEADER = _NONCE + struct.calcsize(_EXPIRY)
