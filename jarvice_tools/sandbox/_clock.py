"""The sandbox clock: wall time, or a manual clock that tests move."""

from __future__ import annotations

import threading
import time
from typing import Literal

ClockMode = Literal["real", "manual"]


class Clock:
    """Seconds since the Epoch, as a float.

    A ``"real"`` clock follows wall time plus any offset added by
    :meth:`advance` (handy for skipping ahead in a demo). A ``"manual"``
    clock starts at ``epoch`` and moves only when :meth:`advance` is called.
    """

    def __init__(self, mode: ClockMode, epoch: float | None = None) -> None:
        if mode not in ("real", "manual"):
            raise ValueError(f"clock must be 'real' or 'manual', not {mode!r}")
        self.mode: ClockMode = mode
        self._lock = threading.Lock()
        self._epoch = float(epoch if epoch is not None else int(time.time()))
        self._offset = 0.0

    def now(self) -> float:
        with self._lock:
            if self.mode == "real":
                return time.time() + self._offset
            return self._epoch + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward; seconds must be >= 0")
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
