"""The tasks activations run in: plain asyncio tasks, owned by one task of the engine.

An anyio task group starts a task in about 45 µs (a task handle, a cancel scope and an
event each); a plain asyncio task costs about 6 µs. A wake-up herd of 10,000 sleepers
pays that 10,000 times, so activations do not go through the task group. They stay
structured all the same: ``ActivationTasks.run`` is a task of the engine's group and owns
them.

- When it is cancelled (the engine stops), it waits for the scheduler to stop starting
  activations (``seal``: a claim in flight is shielded and still starts its own), cancels
  every activation through the cancel scope the activation runs in, which keeps the
  shielded write of the activation's end intact, and waits for all of them, all before
  the engine's group can exit.
- An exception that escapes an activation (only an engine bug: the engine catches the
  rest) ends ``run`` with that exception, which stops the engine as a task group would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import anyio

__all__ = ["ActivationTasks"]


class ActivationTasks:
    """Plain asyncio tasks, each with the cancel scope that stops it; see the module."""

    def __init__(self) -> None:
        self._tasks: dict[asyncio.Task[None], anyio.CancelScope] = {}
        self._failure: BaseException | None = None
        self._failed: asyncio.Event | None = None
        self._sealed = False
        self._sealed_event: asyncio.Event | None = None
        self._closed = False

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, coroutine: Coroutine[Any, Any, None], scope: anyio.CancelScope,
              name: str) -> None:
        """Run ``coroutine``, which enters ``scope`` first thing, in a task of its own."""
        if self._sealed:
            raise RuntimeError("activations started after the scheduler stopped")
        if self._closed:  # the engine is stopping: the activation hands its instance back
            scope.cancel()
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks[task] = scope
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        del self._tasks[task]
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and self._failure is None:
            self._failure = error
            if self._failed is not None:
                self._failed.set()

    def seal(self) -> None:
        """No activation starts after this (the scheduler has stopped)."""
        self._sealed = True
        if self._sealed_event is not None:
            self._sealed_event.set()

    async def run(self) -> None:
        """Own the tasks until cancelled, or until one of them failed: then stop them all
        and wait for them."""
        self._failed = asyncio.Event()
        if self._failure is not None:
            self._failed.set()
        self._sealed_event = asyncio.Event()
        if self._sealed:
            self._sealed_event.set()
        try:
            await self._failed.wait()
            assert self._failure is not None
            raise self._failure
        finally:
            self._closed = True
            with anyio.CancelScope(shield=True):
                await self._sealed_event.wait()
                while self._tasks:
                    for scope in self._tasks.values():
                        scope.cancel()
                    await asyncio.wait(list(self._tasks))
