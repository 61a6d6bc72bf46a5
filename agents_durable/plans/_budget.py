"""The per-activation budget: fuel, recursion depth, CPU time per slice, memory growth.

Fuel is ticked by code the compiler injects (loop bodies, function entries, ``except``
handlers, lambdas, comprehension items) and charged in bulk by guards that build large
objects. Once tripped, the budget stays tripped: every later tick raises again, so a plan
cannot catch its way out (it could not anyway: the signal is a ``BaseException``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from agents_durable._signals import Fatal
from agents_durable.errors import BudgetExceeded

__all__ = ["Budget"]

_CHECK_EVERY = 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes() -> int:
    """Current resident set size (Linux); 0 where /proc is not available."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class Budget:
    """Counts what one activation of a plan may spend, and stops it when it is spent."""

    __slots__ = ("checkpoint", "depth", "fuel", "halted", "max_depth", "max_memory",
                 "max_slice", "rss_start", "slice_start", "tripped")

    def __init__(self, *, fuel: int, max_depth: int, max_slice_seconds: float,
                 max_memory_bytes: int = 512 * 1024 * 1024) -> None:
        self.fuel = fuel
        self.checkpoint = fuel - _CHECK_EVERY
        self.depth = 0
        self.max_depth = max_depth
        self.max_slice = max_slice_seconds
        self.max_memory = max_memory_bytes
        self.tripped: BudgetExceeded | None = None
        #: Set when the engine decided the activation ends (a suspension, a limit): every
        #: later tick of plan code raises that signal again, so no ``finally`` can go on.
        self.halted: Callable[[], BaseException] | None = None
        self.slice_start = time.perf_counter()
        self.rss_start = -1

    def tick(self) -> None:
        """One unit of work. Injected into plan code; must stay cheap."""
        self.fuel -= 1
        if self.fuel <= self.checkpoint:
            self._check()

    def charge(self, units: int) -> None:
        """Charge work proportional to the size of something a guard is about to build."""
        self.fuel -= units
        if self.fuel <= self.checkpoint:
            self._check()

    def enter(self) -> None:
        """A plan function starts: count depth (recursion) and one unit of fuel."""
        self.depth += 1
        if self.depth > self.max_depth:
            self.trip(f"recursion deeper than {self.max_depth} plan function calls; "
                      "use a loop instead of recursion")
        self.tick()

    def exit(self) -> None:
        self.depth -= 1

    def resume(self) -> None:
        """Plan code starts a new slice (after an engine await): restart the CPU clock.

        The memory baseline is taken lazily at the slice's first check (every
        ``_CHECK_EVERY`` ticks): reading ``/proc`` on every await cost more than the step
        itself, and a slice too short to reach a check is bounded by the size guards.
        """
        self.slice_start = time.perf_counter()
        self.rss_start = -1

    def halt(self, signal: Callable[[], BaseException]) -> None:
        """The activation is ending: make every later tick raise ``signal()``."""
        if self.halted is None:
            self.halted = signal
        self.checkpoint = 1 << 62

    def _check(self) -> None:
        if self.tripped is not None:
            raise Fatal(self.tripped)
        if self.halted is not None:
            raise self.halted()
        if self.fuel < 0:
            self.trip("the plan ran out of fuel (too many loop iterations, calls or items "
                      "built in one activation); do less work per activation or move heavy "
                      "computation into a host tool")
        self.checkpoint = self.fuel - _CHECK_EVERY
        if time.perf_counter() - self.slice_start > self.max_slice:
            self.trip(f"plan code ran for more than {self.max_slice:g} s without awaiting a "
                      "step; move heavy computation into a host tool")
        if self.rss_start < 0:
            self.rss_start = _rss_bytes()
        elif self.rss_start and _rss_bytes() - self.rss_start > self.max_memory:
            self.trip(f"plan code grew memory by more than {self.max_memory // 2**20} MiB; "
                      "build smaller data")

    def trip(self, reason: str) -> None:
        """Stop the plan now and for the rest of this activation.

        If the engine already decided how the activation ends, that decision stands: the
        first decision wins, so plan code running on in a ``finally`` cannot replace it.
        """
        if self.halted is not None and self.tripped is None:
            raise self.halted()
        if self.tripped is None:
            self.tripped = BudgetExceeded(reason)
        self.checkpoint = 1 << 62  # every later tick takes the slow path and raises again
        raise Fatal(self.tripped)
