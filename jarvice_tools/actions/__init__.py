"""The action registry: every JARVICE endpoint as one typed, guarded Action."""

from jarvice_tools.actions.base import TOOLSETS, Action, Guard, ResultKind
from jarvice_tools.actions.registry import ACTIONS, UnknownAction, get_action

__all__ = [
    "ACTIONS",
    "TOOLSETS",
    "Action",
    "Guard",
    "ResultKind",
    "UnknownAction",
    "get_action",
]
