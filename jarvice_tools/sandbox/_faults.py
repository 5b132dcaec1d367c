"""Injected faults and the log of received requests (test control)."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from ._api import ENDPOINTS
from ._reply import dumps


@dataclass(frozen=True)
class ReceivedRequest:
    """One /jarvice/* request as the sandbox saw it, without any apikey."""

    endpoint: str
    method: str
    params: dict[str, str]
    username: str | None
    body: Any
    content_type: str | None
    time: float

    def as_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "method": self.method,
            "params": self.params,
            "username": self.username,
            "body": self.body,
            "content_type": self.content_type,
            "time": self.time,
        }


@dataclass
class Fault:
    """What to do instead of (or before, or after) a normal answer.

    ``endpoint`` is an endpoint name or ``"*"``. ``status`` replies with that
    code and ``body`` (default ``{"error": <reason>}``); ``malformed`` replies
    200 with broken JSON; ``drop`` closes the connection without a reply;
    ``delay`` waits that many (real) seconds first. With ``after`` the call
    is carried out before the fault replaces its reply, so a state change
    happens but the client cannot tell. ``times`` matching requests get it.
    """

    endpoint: str
    status: int | None = None
    delay: float = 0.0
    body: str | None = None
    malformed: bool = False
    drop: bool = False
    times: int = 1
    after: bool = False

    def __post_init__(self) -> None:
        self._check_types()
        kinds = sum((self.status is not None, self.malformed, self.drop))
        if kinds > 1:
            raise ValueError("a fault is one of: status, malformed or drop")
        if self.body is not None and self.status is None:
            raise ValueError("a fault body needs a status")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code (100-599)")
        if self.delay < 0 or self.times < 1:
            raise ValueError("delay must be >= 0 and times >= 1")
        if not kinds and not self.delay:
            raise ValueError("a fault needs a status, malformed, drop or a delay")

    def _check_types(self) -> None:
        """ValueError unless each field has the type it is documented with."""
        if self.endpoint != "*" and self.endpoint not in ENDPOINTS:
            raise ValueError(
                f"unknown endpoint {self.endpoint!r}: use an endpoint name "
                f"({', '.join(ENDPOINTS)}) or '*'"
            )
        if self.status is not None and not _is_int(self.status):
            raise ValueError("status must be an integer HTTP status code")
        if not _is_number(self.delay) or not math.isfinite(self.delay):
            raise ValueError("delay must be a finite number of seconds")
        if self.body is not None and not isinstance(self.body, str):
            raise ValueError("body must be a string")
        for name in ("malformed", "drop", "after"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false")
        if not _is_int(self.times):
            raise ValueError("times must be a positive integer")

    @property
    def replaces_reply(self) -> bool:
        return self.status is not None or self.malformed or self.drop

    def as_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "status": self.status,
            "delay": self.delay,
            "body": self.body,
            "malformed": self.malformed,
            "drop": self.drop,
            "times": self.times,
            "after": self.after,
        }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fault_body(value: object) -> str | None:
    """A fault's reply body: text as given, a JSON object or list as JSON."""
    if isinstance(value, (dict, list)):
        return dumps(value).decode()
    if value is None or isinstance(value, str):
        return value
    raise ValueError("body must be a string, a JSON object or a JSON list")


@dataclass
class ControlState:
    """Faults and the request log, shared between threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    faults: list[Fault] = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, endpoint: str) -> Fault | None:
        """The first fault for this endpoint, used up one time."""
        with self.lock:
            for fault in self.faults:
                if fault.endpoint in (endpoint, "*"):
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def record(self, request: ReceivedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def received(self) -> list[ReceivedRequest]:
        with self.lock:
            return list(self.requests)

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()
