"""Helpers for task modules' fake tools (host code; never shown to plan writers).

Tools run in worker threads when they are sync, possibly several at once under
``step.gather``, so everything that counts or records goes through one lock.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["Recorder"]


class Recorder:
    """The ``state`` dict of one task run plus a lock, a counter per key and id makers."""

    def __init__(self, **initial: Any) -> None:
        self.state: dict[str, Any] = dict(initial)
        self.state.setdefault("calls", [])
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def call(self, name: str, *args: Any) -> int:
        """Record a call of tool ``name``; return how many times it was called with ``args``."""
        key = f"{name}{args!r}"
        with self._lock:
            self.state["calls"].append([name, *args])
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def add(self, key: str, item: Any) -> None:
        with self._lock:
            self.state.setdefault(key, []).append(item)

    def once(self, key: str, idempotency_key: str, item: Any) -> bool:
        """Record ``item`` under ``key`` unless this idempotency key was seen; True if new."""
        with self._lock:
            seen = self.state.setdefault(f"{key}_keys", set())
            if idempotency_key and idempotency_key in seen:
                return False
            if idempotency_key:
                seen.add(idempotency_key)
            self.state.setdefault(key, []).append(item)
            return True

    def next_id(self, prefix: str) -> str:
        with self._lock:
            n = self._counts.get(f"id:{prefix}", 0) + 1
            self._counts[f"id:{prefix}"] = n
            return f"{prefix}-{n}"

    def count(self, name: str) -> int:
        """How many calls of tool ``name`` were made, any arguments."""
        with self._lock:
            return sum(1 for c in self.state["calls"] if c[0] == name)
