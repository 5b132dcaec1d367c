"""What an endpoint handler receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._reply import Params
from ._seed import Account
from ._world import World


@dataclass
class Call:
    """One API call: the world (locked), the caller and the parameters.

    ``account`` is None only where an endpoint allows anonymous calls.
    ``body`` is the parsed JSON body of submit, batch and validate.
    """

    world: World
    account: Account | None
    params: Params
    body: Any = None

    @property
    def user(self) -> Account:
        if self.account is None:  # registry guarantees it for these endpoints
            raise RuntimeError("endpoint needs an authenticated caller")
        return self.account

    @property
    def now(self) -> float:
        return self.world.now()
