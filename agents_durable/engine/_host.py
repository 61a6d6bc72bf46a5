"""What an activation needs from the engine, whichever process the activation runs in.

``Engine`` provides it directly when an activation runs inline; ``RunnerHost`` (in a runner
process, ``_runner_main``) provides it by sending JSON requests over the runner's pipe to
the engine, which executes them. Everything an activation does to the world passes through
these few calls (journal commits, storage usage, tool calls, time), so the activation code
is the same in both modes and every store write and tool call happens in the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from agents_durable.engine._clock import Clock
    from agents_durable.engine._models import Limits
    from agents_durable.engine._observe import Observer
    from agents_durable.store import InstanceRecord, NewInstance, StepRecord

__all__ = ["ActivationHost", "JournalWriter"]


class JournalWriter(Protocol):
    """The one store write an activation makes itself: a journal row, durably."""

    async def record_step(self, pk: int, step: StepRecord, *,
                          consume_event: int | None = None, lease: int = 0) -> None:
        """``lease`` is the claim's fencing token (see ``store/postgres.py``)."""


class ActivationHost(Protocol):
    """The engine as an activation sees it."""

    limits: Limits
    clock: Clock
    #: Whether the activation may hold journal rows of steps without effects until its
    #: next commit (inline); a runner streams each row to the engine instead.
    defers_commits: bool
    #: Told about step attempts and commits. In a runner it is a no-op ``Observer``: the
    #: engine observes a runner's commits and tool calls itself, where they execute.
    observer: Observer

    @property
    def store(self) -> JournalWriter: ...

    async def agent_usage(self, agent_id: str) -> int:
        """Bytes ``agent_id``'s instances store (for the per-agent quota)."""

    def add_agent_usage(self, agent_id: str, size: int) -> None:
        """``size`` more bytes were committed for ``agent_id``."""

    async def call_tool(self, record: InstanceRecord, grants: frozenset[str], name: str,
                        args: list[Any], kwargs: dict[str, Any], limit: int) -> Any:
        """Grant-check and run host tool ``name`` for ``record``'s activation."""

    async def latest_plan(self, agent_id: str, name: str) -> tuple[str, int, str] | None:
        """``(name, version, hash)`` of the latest version of ``agent_id``'s plan ``name``
        (a child plan is pinned to it when its step first runs), or None."""

    async def start_child(self, parent: InstanceRecord, new: NewInstance, *,
                          keep: bool) -> None:
        """Create ``new`` as a child of ``parent`` (idempotent; ``InstanceExists`` if the
        id is another instance's) and wake the scheduler to run it."""
