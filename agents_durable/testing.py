"""Testing helpers: a fake clock that makes days of sleeping take milliseconds.

    clock = FakeClock()
    async with Engine.open(tmp_path / "db.sqlite", clock=clock) as engine:
        ...
        await clock.advance("2 days")   # timers fire in order; the engine settles between

``advance`` moves time to each pending timer in turn and lets every engine attached to the
clock finish the work that timer released before moving on, so a plan that sleeps 2 days
and then waits 5 days for an event sees its wait start at day 2, as it would in real time.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import weakref
from typing import Any, Protocol

import anyio

from agents_durable.engine._durations import parse_duration as _parse_duration

__all__ = ["FakeClock"]


class _Settles(Protocol):
    async def settle(self) -> None: ...


class _Waiter:
    __slots__ = ("cancelled", "deadline", "event", "owner")

    def __init__(self, deadline: float, owner: Any) -> None:
        self.deadline = deadline
        self.event = anyio.Event()
        self.cancelled = False
        self.owner = owner


class FakeClock:
    """A clock that moves only when told to. Pass it as ``Engine.open(..., clock=...)``."""

    polls = False

    def __init__(self, start: dt.datetime | float | None = None, *,
                 hung_after: float = 2.0) -> None:
        #: Real seconds a step callback may await host code before ``advance`` stops
        #: waiting for it and moves time on (which can fire that attempt's timeout).
        self.hung_after = hung_after
        if start is None:
            start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self._now = start.timestamp() if isinstance(start, dt.datetime) else float(start)
        self._heap: list[tuple[float, int, _Waiter]] = []
        self._order = itertools.count()
        self._engines: weakref.WeakSet[Any] = weakref.WeakSet()

    def now(self) -> float:
        return self._now

    def datetime(self) -> dt.datetime:
        """The current fake time as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self._now, dt.UTC)

    async def sleep_until(self, deadline: float, *, owner: Any = None) -> None:
        if deadline <= self._now:
            return
        waiter = _Waiter(deadline, owner)
        heapq.heappush(self._heap, (deadline, next(self._order), waiter))
        try:
            await waiter.event.wait()
        finally:
            waiter.cancelled = True

    def attach(self, engine: _Settles) -> None:
        """Engines attach themselves so ``advance`` can wait for them to settle."""
        self._engines.add(engine)

    async def advance(self, duration: object) -> None:
        """Move time forward by ``duration``, firing timers in order."""
        target = self._now + _parse_duration(duration)
        await self._settle()
        while True:
            self._drop_cancelled()
            if not self._heap or self._heap[0][0] > target:
                break
            self._now = max(self._now, self._heap[0][0])
            while self._heap and self._heap[0][0] <= self._now:
                _, _, waiter = heapq.heappop(self._heap)
                waiter.event.set()
            await self._settle()
        self._now = max(self._now, target)
        await self._settle()

    async def settle(self) -> None:
        """Wait until every attached engine has nothing left to do at the current time."""
        await self._settle()

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)

    async def _settle(self) -> None:
        for engine in list(self._engines):
            await engine.settle()
