"""JARVICE Tools: the JARVICE API as typed, guarded actions.

`JarviceClient` sends them, `ACTIONS` describes them (the MCP server and the
Slack app are loops over it), and `jarvice_tools.errors` holds every error.
"""

from jarvice_tools.actions import (
    ACTIONS,
    TOOLSETS,
    Action,
    Guard,
    ResultKind,
    UnknownAction,
    get_action,
)
from jarvice_tools.client import JarviceClient, RetryPolicy
from jarvice_tools.guards import Confirmation, ConfirmationPreview, confirm
from jarvice_tools.settings import Caller, Credentials, JarviceSettings

__all__ = [
    "ACTIONS",
    "TOOLSETS",
    "Action",
    "Caller",
    "Confirmation",
    "ConfirmationPreview",
    "Credentials",
    "Guard",
    "JarviceClient",
    "JarviceSettings",
    "ResultKind",
    "RetryPolicy",
    "UnknownAction",
    "confirm",
    "get_action",
]
