"""Group commit: writers that arrive while a commit is in progress share the next one.

Both stores use it for journal writes. The first writer to find no commit in progress
becomes the leader: it commits everything queued, batch after batch, through the store's
``commit_batch`` (one transaction per batch), shielded so that a cancelled leader never
strands the writers waiting on its batch. Nobody is released before the transaction
holding their write has committed; ``commit_batch`` sets each writer's future.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

__all__ = ["GroupCommit", "Pending"]

#: One queued write: the operation, its arguments, and the future its writer awaits.
Pending = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]


class GroupCommit:
    """Queues writes and commits them in batches with ``commit_batch``."""

    def __init__(self, commit_batch: Callable[[list[Pending]], Awaitable[None]]) -> None:
        self._commit_batch = commit_batch
        self._pending: list[Pending] = []
        self._flushing = False

    async def submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((fn, args, done))
        if not self._flushing:
            self._flushing = True
            try:
                with anyio.CancelScope(shield=True):  # other writers wait on this batch
                    while self._pending:
                        batch, self._pending = self._pending, []
                        await self._commit_batch(batch)
            finally:
                self._flushing = False
        return await done
