"""The sandbox clock: wall time, or a manual clock that tests move."""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime
from typing import Literal

ClockMode = Literal["real", "manual"]
# Every time the sandbox shows must be a date: month arithmetic near the end
# of year 9999 would overflow datetime.
LATEST = datetime(9999, 1, 1, tzinfo=UTC).timestamp()


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
        if not math.isfinite(self._epoch) or self._epoch >= LATEST:
            raise ValueError("epoch must be a finite time before the year 9999")
        self._offset = 0.0

    def now(self) -> float:
        with self._lock:
            return self._now()

    def _now(self) -> float:
        if self.mode == "real":
            return time.time() + self._offset
        return self._epoch + self._offset

    def advance(self, seconds: float) -> None:
        """Move forward; ValueError for a negative, non-finite or too large
        step (the clock stays before :data:`LATEST`)."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite number >= 0")
        with self._lock:
            if self._now() + seconds >= LATEST:
                raise ValueError(
                    "that is too far: the sandbox clock stays before the year 9999"
                )
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
