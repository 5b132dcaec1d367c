"""A JARVICE-compatible API server with simulated jobs, for tests and demos.

It implements the public ``/jarvice/*`` API from the references alone and
imports nothing else from ``jarvice_tools``, so tests of the client against
it check the contract, not the client against itself. See docs/sandbox.md.
"""

from ._faults import ReceivedRequest
from ._seed import Account
from ._server import SandboxServer
from ._world import JobView

__all__ = ["Account", "JobView", "ReceivedRequest", "SandboxServer"]
