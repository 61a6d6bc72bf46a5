"""Time as the engine sees it. The real clock, and the protocol ``FakeClock`` implements."""

from __future__ import annotations

import time
from typing import Protocol

import anyio

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    """Where the engine reads the time and waits for it."""

    #: Whether the scheduler should also poll the database in real time for work that
    #: other processes created (a fake clock only moves when a test says so).
    polls: bool

    def now(self) -> float:
        """Epoch seconds."""

    async def sleep_until(self, deadline: float) -> None:
        """Return at or after ``deadline`` (epoch seconds)."""


class SystemClock:
    """Wall-clock time."""

    polls = True

    def now(self) -> float:
        return time.time()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.time()
        if delay > 0:
            await anyio.sleep(delay)
