"""Every error the tool layer raises, in one tree.

Callers catch the branch they can handle::

    JarviceError                      anything from this package
    ├── InvalidParameters             bad input; nothing was sent to JARVICE
    ├── CredentialsMissing            no JARVICE user configured for the call
    ├── GuardError                    a guard refused; nothing was sent
    │   ├── ConfirmationRequired      a human must confirm (carries the preview)
    │   ├── ConfirmationRejected      the confirmation given does not fit this call
    │   └── AdminRequired             the caller is not marked as an admin
    ├── TransportError                could not get an answer from JARVICE
    │   ├── Unreachable               no connection; the request was not sent
    │   ├── Timeout                   no answer in time (a read; safe to retry)
    │   └── OutcomeUnknown            a change may or may not have happened
    ├── ApiError                      JARVICE answered with an error status
    │   ├── BadRequest                400
    │   ├── Unauthorized              401: bad credentials, or not allowed
    │   ├── NotFound                  404: no such job (or not yours), app, queue
    │   ├── RateLimited               429
    │   └── ServerError               5xx
    └── MalformedResponse             an answer that could not be decoded

Every message is a sentence that says what happened and what to do next, and
none of them ever contains an API key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jarvice_tools.guards import ConfirmationPreview

__all__ = [
    "AdminRequired",
    "ApiError",
    "BadRequest",
    "ConfirmationRejected",
    "ConfirmationRequired",
    "CredentialsMissing",
    "FieldProblem",
    "GuardError",
    "InvalidParameters",
    "JarviceError",
    "MalformedResponse",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "ServerError",
    "Timeout",
    "TransportError",
    "Unauthorized",
    "Unreachable",
]


class JarviceError(Exception):
    """The root of every error raised by `jarvice_tools`."""

    def __init__(self, message: str, *, action: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.action = action

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input field: where it is and what would be valid."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidParameters(JarviceError):
    """The parameters failed validation; no request was sent to JARVICE."""

    def __init__(
        self,
        problems: Sequence[FieldProblem],
        *,
        action: str,
        outcome: str = "Nothing was sent to JARVICE.",
    ) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(str(p) for p in self.problems)
        super().__init__(
            f"Invalid parameters for {action}: {listed}. {outcome}", action=action
        )


class CredentialsMissing(JarviceError):
    """No JARVICE username and API key are configured for this call."""


class GuardError(JarviceError):
    """A guard refused the action; no request was sent to JARVICE."""


class ConfirmationRequired(GuardError):
    """A human must confirm this action first.

    `preview` holds what the human should be shown before saying yes: for a
    job, its number, name, status, how long it has run and where it runs.
    """

    def __init__(self, preview: ConfirmationPreview) -> None:
        self.preview = preview
        super().__init__(
            f"{preview.summary} This needs a human's confirmation; "
            "nothing was sent to JARVICE.",
            action=preview.action,
        )


class ConfirmationRejected(GuardError):
    """A confirmation was given but does not authorise this exact call."""


class AdminRequired(GuardError):
    """An admin action was asked for by a caller not marked as an admin."""

    def __init__(self, action: str) -> None:
        super().__init__(
            f"{action} is an administrator action and this caller is not "
            "configured as an admin. Ask the operator of this deployment to "
            "mark you as one; nothing was sent to JARVICE.",
            action=action,
        )


class TransportError(JarviceError):
    """No usable answer came back from JARVICE."""


class Unreachable(TransportError):
    """The connection to JARVICE could not be made; nothing was sent."""


class Timeout(TransportError):
    """JARVICE did not answer a read in time."""


class OutcomeUnknown(TransportError):
    """A state-changing request may have reached JARVICE, but no answer came.

    It is never sent again automatically: check the job list or the job's
    status before trying again.
    """


class ApiError(JarviceError):
    """JARVICE answered with an error status.

    `status_code` is the HTTP status, `endpoint` the API path, and
    `server_message` JARVICE's own words (from `{"error": ...}` or the text
    body).
    """

    def __init__(
        self,
        message: str,
        *,
        action: str,
        endpoint: str,
        status_code: int,
        server_message: str,
    ) -> None:
        super().__init__(message, action=action)
        self.endpoint = endpoint
        self.status_code = status_code
        self.server_message = server_message


class BadRequest(ApiError):
    """HTTP 400: JARVICE found the request malformed or incomplete."""


class Unauthorized(ApiError):
    """HTTP 401: bad credentials, or the account may not use this endpoint."""


class NotFound(ApiError):
    """HTTP 404: the job, app or queue does not exist for this account."""


class RateLimited(ApiError):
    """HTTP 429: JARVICE refused because of a limit; `retry_after` in seconds
    when the server said."""

    retry_after: float | None = None


class ServerError(ApiError):
    """HTTP 5xx: JARVICE failed or was overloaded."""


class MalformedResponse(JarviceError):
    """JARVICE answered 2xx with a body that could not be decoded."""
