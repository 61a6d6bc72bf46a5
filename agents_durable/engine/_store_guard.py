"""The engine's view of its store: infrastructure failures become ``StoreUnavailable``.

A full disk, a lock held past the busy timeout or an I/O error says nothing about the
instance whose write failed, so it must never error that instance. Every store call the
engine (and each activation) makes goes through ``GuardedStore``, which

- turns a raw ``sqlite3`` error or ``OSError`` from any ``Store`` implementation into
  ``StoreUnavailable`` (a ``StoreError``),
- remembers which instance (``pk``) a failed per-instance call was for, so the engine
  hands that activation back instead of recording whatever the plan made of the error
  (plan code may catch an ``Exception`` raised out of ``await step.do(...)``),
- reports each committed journal row, which ends an instance's crash probation,
- reports each write refused with ``LeaseLost`` (another worker owns the instance now),
  so that the engine stops that activation without writing anything more for it.
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from agents_durable.errors import LeaseLost, StoreUnavailable

__all__ = ["STORE_FAILURES", "GuardedStore", "is_store_failure"]

#: What a store raises when it cannot work right now (never a verdict on an instance).
STORE_FAILURES: tuple[type[BaseException], ...] = (StoreUnavailable, sqlite3.OperationalError,
                                                   sqlite3.DatabaseError, OSError)
_BUGS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)

#: Store methods whose first argument is the ``pk`` of the instance the call is for.
_PER_INSTANCE = frozenset({"record_step", "finish", "load_journal", "history"})


def is_store_failure(error: BaseException) -> bool:
    return isinstance(error, STORE_FAILURES) and not isinstance(error, _BUGS)


def as_unavailable(error: BaseException) -> StoreUnavailable:
    if isinstance(error, StoreUnavailable):
        return error
    wrapped = StoreUnavailable(f"the store failed: {type(error).__name__}: {error}. Nothing "
                               "was written; retry once the disk has room or the lock is "
                               "released")
    wrapped.__cause__ = error
    return wrapped


class GuardedStore:
    """Wraps any ``Store``; see the module docstring. Attribute access is forwarded."""

    def __init__(self, inner: Any, *, on_failure: Callable[[BaseException], None],
                 on_commit: Callable[[int], None],
                 on_lost: Callable[[int, int | None], None] = lambda pk, lease: None
                 ) -> None:
        self.inner = inner
        self._on_lost = on_lost
        self._on_failure = on_failure
        self._on_commit = on_commit
        #: pks whose per-instance store call failed; the engine pops its own on hand-back.
        self.failed: set[int] = set()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not inspect.iscoroutinefunction(value):
            return value
        guarded = self._guard(name, value)
        setattr(self, name, guarded)  # built once per method, then a plain attribute
        return guarded

    def _guard(self, name: str, method: Callable[..., Awaitable[Any]]
               ) -> Callable[..., Awaitable[Any]]:
        per_instance = name in _PER_INSTANCE
        commits = name == "record_step"

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await method(*args, **kwargs)
            except BaseException as error:
                if isinstance(error, LeaseLost) and args and isinstance(args[0], int):
                    self._on_lost(args[0], kwargs.get("lease"))
                if not is_store_failure(error):
                    raise
                if per_instance and args and isinstance(args[0], int):
                    self.failed.add(args[0])
                self._on_failure(error)
                if isinstance(error, StoreUnavailable):
                    raise
                raise as_unavailable(error) from error
            if commits and args and isinstance(args[0], int):
                self._on_commit(args[0])
            return result

        return call
