"""Job-state watching: polls JARVICE and reports queued, started, finished.

Nothing here knows about Slack or SQL. A front end gives the watcher its
users through a `UserSource`, records each `Cycle`'s events durably, and then
lets the watcher adopt the cycle's `WatchState` (which it may persist too, so
that a restart or a new leader carries on where the last one stopped).
"""

from jarvice_tools.watch.model import (
    CallCount,
    Cycle,
    EventKind,
    FeedFailure,
    Horizon,
    JobEvent,
    StaticUsers,
    TrackedJob,
    UserSource,
    WatchedUser,
    WatchState,
)
from jarvice_tools.watch.watcher import Watcher

__all__ = [
    "CallCount",
    "Cycle",
    "EventKind",
    "FeedFailure",
    "Horizon",
    "JobEvent",
    "StaticUsers",
    "TrackedJob",
    "UserSource",
    "WatchState",
    "WatchedUser",
    "Watcher",
]
