"""Confirmation and admin policy, enforced in one place.

`JarviceClient.run` is the only way a request reaches JARVICE, and it checks
the action's guard first:

- an `admin` action for a caller not marked as an admin raises
  `AdminRequired`;
- a `confirm` action without a confirmation raises `ConfirmationRequired`,
  carrying a `ConfirmationPreview` fetched from JARVICE (which job, its
  status, how long it has run, where);
- a confirmation is accepted only for the same action, the same arguments and
  the same JARVICE user it was given for, before it expires, and once.

How the human is asked is up to each front end (MCP elicitation, a Slack
button); they all end by calling `confirm(...)` with who said yes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from jarvice_tools.errors import ConfirmationRejected
from jarvice_tools.models.base import RequestModel

__all__ = [
    "CONFIRMATION_TTL",
    "SPENT",
    "Confirmation",
    "ConfirmationPreview",
    "UsedConfirmations",
    "confirm",
    "fingerprint",
    "format_duration",
]

CONFIRMATION_TTL = 300.0
"""Seconds a human's yes stays valid: the call is expected to follow at once."""


def fingerprint(action: str, params: RequestModel, username: str) -> str:
    """A digest binding an action, its exact arguments and the JARVICE user."""
    arguments = params.model_dump(mode="json", exclude_none=True)
    canonical = json.dumps(
        {"action": action, "arguments": arguments, "username": username},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def format_duration(seconds: float) -> str:
    """2h 03m, 4m 10s, 12s."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


@dataclass(frozen=True)
class ConfirmationPreview:
    """What a human is shown before confirming: a one-line summary, what will
    happen, and the facts about the job (or image) it acts on. The summary
    holds nothing that changes while the job runs (its run time is a fact of
    its own), so a question built from it reads the same when asked again."""

    action: str
    fingerprint: str
    summary: str
    consequence: str
    job_number: int | None = None
    job_name: str | None = None
    job_status: str | None = None
    run_seconds: int | None = None
    started_at: int | None = None
    machine_type: str | None = None
    nodes: int | None = None
    application: str | None = None
    target: str | None = None
    warning: str | None = None

    def as_text(self) -> str:
        """The preview as a few plain lines, for a prompt or a message."""
        lines = [self.summary]
        facts = [
            ("Job", self._job_line()),
            ("Status", self.job_status),
            ("Running for", self._run_time()),
            ("Machine", self._machine_line()),
            ("Application", self.application),
            ("Image", self.target),
        ]
        lines += [f"{label}: {value}" for label, value in facts if value]
        lines.append(self.consequence)
        if self.warning:
            lines.append(f"Note: {self.warning}")
        return "\n".join(lines)

    def _job_line(self) -> str | None:
        if self.job_number is None:
            return None
        return (
            f"{self.job_number} ({self.job_name})"
            if self.job_name
            else str(self.job_number)
        )

    def _run_time(self) -> str | None:
        if not self.run_seconds:
            return None
        return format_duration(self.run_seconds)

    def _machine_line(self) -> str | None:
        if not self.machine_type:
            return None
        nodes = self.nodes or 1
        return f"{nodes} x {self.machine_type}"


@dataclass(frozen=True)
class Confirmation:
    """A human's yes to one exact call. Make one with `confirm(...)`."""

    action: str
    fingerprint: str
    confirmed_by: str
    expires_at: float
    id: str = field(default_factory=lambda: secrets.token_hex(16))

    def check(self, action: str, expected: str, *, now: float | None = None) -> None:
        """Raise `ConfirmationRejected` unless this authorises that call."""
        if self.action != action or self.fingerprint != expected:
            raise ConfirmationRejected(
                f"The confirmation given was for a different call than this "
                f"{action}; ask the human again for this one. Nothing was sent.",
                action=action,
            )
        if (now if now is not None else time.time()) > self.expires_at:
            raise ConfirmationRejected(
                f"The confirmation for this {action} has expired; ask the human "
                "again. Nothing was sent.",
                action=action,
            )


def confirm(
    action: str,
    params: RequestModel,
    *,
    username: str,
    confirmed_by: str,
    ttl: float = CONFIRMATION_TTL,
) -> Confirmation:
    """Record that `confirmed_by` (a person, e.g. "slack:U123") said yes to
    running `action` with `params` as JARVICE user `username`."""
    if not confirmed_by.strip():
        raise ValueError("confirmed_by must say who confirmed")
    return Confirmation(
        action=action,
        fingerprint=fingerprint(action, params, username),
        confirmed_by=confirmed_by,
        expires_at=time.time() + ttl,
    )


class UsedConfirmations:
    """Confirmation ids already spent in this process, so each works once.

    Entries are dropped once their confirmation has expired anyway, so the
    set stays as small as the confirmations still alive.
    """

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}
        self._lock = threading.Lock()

    def spend(self, confirmation: Confirmation) -> None:
        now = time.time()
        with self._lock:
            self._spent = {k: t for k, t in self._spent.items() if t >= now}
            if confirmation.id in self._spent:
                raise ConfirmationRejected(
                    f"This confirmation for {confirmation.action} was already "
                    "used; a confirmation works once. Nothing was sent.",
                    action=confirmation.action,
                )
            self._spent[confirmation.id] = confirmation.expires_at


SPENT = UsedConfirmations()
"""The confirmations spent in this process, by every client."""
