"""The shared engine: lifecycle, scheduler, and the activation loop.

One anyio task group per engine. The scheduler claims due instances (new, woken timers,
events arrived, released after a crash), runs each claimed instance's activation under a
concurrency limit, and otherwise sleeps until the next due time or an in-process
notification; with the real clock it also polls the database every ``poll_interval``
seconds for work created by other processes (CLI clients). No busy polling while idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Collection
from typing import Any

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from agents_durable.engine._activation import Activation, error_json
from agents_durable.engine._clock import Clock, SystemClock
from agents_durable.engine._models import Limits
from agents_durable.engine._tools import ToolRegistry
from agents_durable.errors import CorruptRecord, EngineClosed, PlanRejected, UsageError
from agents_durable.plans._compile import CompiledPlan, compile_plan
from agents_durable.plans._policy import PlanPolicy
from agents_durable.store import Finish, InstanceRecord, Journal, Store, store_for

__all__ = ["Engine"]

logger = logging.getLogger("agents_durable")
_USAGE_TTL = 30.0


class Engine:
    """One durable engine over one database. Use as ``async with Engine.open(...)``."""

    def __init__(self, store: Store, *, worker: bool = True, clock: Clock | None = None,
                 concurrency: int = 64, limits: Limits | None = None,
                 policy: PlanPolicy | None = None, poll_interval: float = 1.0,
                 quarantine_after: int = 2) -> None:
        if concurrency < 1:
            raise UsageError("concurrency must be at least 1")
        self.store = store
        self.worker = worker
        self.clock: Clock = clock or SystemClock()
        self.concurrency = concurrency
        self.limits = limits or Limits()
        self.policy = policy or PlanPolicy()
        self.poll_interval = poll_interval
        self.quarantine_after = quarantine_after
        self.tools = ToolRegistry()
        self._grants: dict[str, frozenset[str]] = {}
        self._policies: dict[str, PlanPolicy] = {}
        self._group: TaskGroup | None = None
        self._exit: contextlib.AsyncExitStack | None = None
        self._open = False
        self._running: dict[int, Activation] = {}
        self._notified = False
        self._parked = False
        self._wake_scope: anyio.CancelScope | None = None
        self._watchers: dict[tuple[str, str], anyio.Event] = {}
        self._runner: asyncio.Task[None] | None = None
        self._runner_failure: list[BaseException] = []
        self._closing: anyio.Event | None = None
        #: agent id -> (when measured, bytes stored): the per-agent storage quota's view,
        #: re-read at most every ``_USAGE_TTL`` seconds and kept current in between.
        self._agent_usage: dict[str, tuple[float, int]] = {}

    @classmethod
    def open(cls, target: str | os.PathLike[str] = "agents_durable.db", *,
             worker: bool = True, clock: Clock | None = None, concurrency: int = 64,
             limits: Limits | None = None, policy: PlanPolicy | None = None,
             poll_interval: float = 1.0) -> Engine:
        """An engine on a SQLite file path, ``sqlite:///path`` or ``:memory:``.

        ``worker=False`` opens a client that registers, creates and signals instances but
        runs nothing (a worker elsewhere does). ``clock=FakeClock()`` makes time testable.
        """
        text = str(target)
        if text.startswith(("postgres://", "postgresql://")):
            raise UsageError("the PostgreSQL store is not available yet in this release; use "
                             "a SQLite file path")
        return cls(store_for(target), worker=worker, clock=clock, concurrency=concurrency,
                   limits=limits, policy=policy, poll_interval=poll_interval)

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Engine:
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            await self.store.open(worker=self.worker)
            stack.push_async_callback(self.store.close)
            if self.worker:
                released, quarantined = await self.store.recover(self.clock.now(),
                                                                 self.quarantine_after)
                if released or quarantined:
                    logger.warning("recovered %d interrupted instance(s); quarantined %d",
                                   released, quarantined)
                self._group = await stack.enter_async_context(anyio.create_task_group())
                stack.callback(self._stop)
                self._group.start_soon(self._schedule)
            attach = getattr(self.clock, "attach", None)
            if attach is not None:
                attach(self)
        except BaseException:
            await stack.aclose()
            raise
        self._exit = stack
        self._open = True
        return self

    async def start(self) -> Engine:
        """Open the engine in a background task and return it; close with ``aclose()``.

        For notebooks and REPLs, where each cell runs in its own task and one
        ``async with`` cannot span cells (an anyio task group must be exited by the task
        that entered it). Elsewhere prefer ``async with Engine.open(...)``.
        """
        if self._runner is not None or self._open:
            raise UsageError("this engine is already open")
        ready, closing = anyio.Event(), anyio.Event()
        self._closing, self._runner_failure = closing, []

        async def hold_open() -> None:
            try:
                async with self:
                    ready.set()
                    await closing.wait()
            except BaseException as error:  # reported to start() or aclose()
                self._runner_failure.append(error)
            finally:
                ready.set()

        self._runner = asyncio.get_running_loop().create_task(hold_open())
        await ready.wait()
        if self._runner_failure:
            self._runner = None
            raise self._runner_failure[0]
        return self

    async def aclose(self) -> None:
        """Close an engine opened with ``start()``. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        assert self._closing is not None
        self._closing.set()
        await runner
        if self._runner_failure:
            raise self._runner_failure[0]

    def _stop(self) -> None:
        if self._group is not None:
            self._group.cancel_scope.cancel()

    async def __aexit__(self, *exc_info: Any) -> None:
        self._open = False
        stack, self._exit = self._exit, None
        if stack is not None:
            await stack.__aexit__(*exc_info)
        self._group = None

    def check_open(self) -> None:
        if not self._open:
            raise EngineClosed("the engine is closed; use it inside `async with "
                               "Engine.open(...) as engine:`")

    # -- agents --------------------------------------------------------------------------------

    def agent(self, agent_id: str, *, tools: Collection[str] = (),
              policy: PlanPolicy | None = None) -> Any:
        """The API scoped to one agent: its plans, its instances, its tool grants."""
        from agents_durable.engine._agent import AgentScope

        if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 200:
            raise UsageError("agent_id must be a non-empty string of at most 200 characters")
        grants = frozenset(tools)
        for name in grants:
            self.tools.get(name)  # raises ToolNotFound for a typo in a grant
        self._grants[agent_id] = grants
        if policy is not None:
            self._policies[agent_id] = policy
        return AgentScope(self, agent_id, grants, policy or self._policies.get(agent_id)
                          or self.policy)

    # -- notifications ----------------------------------------------------------------------

    def notify(self) -> None:
        """Wake the scheduler: there may be new due work."""
        self._notified = True
        if self._wake_scope is not None:
            self._wake_scope.cancel()

    def changed(self, agent_id: str, instance_id: str) -> None:
        event = self._watchers.pop((agent_id, instance_id), None)
        if event is not None:
            event.set()

    def watch(self, agent_id: str, instance_id: str) -> anyio.Event:
        key = (agent_id, instance_id)
        event = self._watchers.get(key)
        if event is None:
            event = self._watchers[key] = anyio.Event()
        return event

    def request_control(self, pk: int, op: str) -> None:
        """Tell a running activation to stop at its next step boundary."""
        activation = self._running.get(pk)
        if activation is not None and op in ("pause", "terminate", "restart"):
            activation.control = op
        elif activation is not None and op == "resume":
            activation.control = None

    async def settle(self) -> None:
        """Wait until the scheduler is parked and no activation can progress by itself.

        Used by ``FakeClock``. An activation whose step callback has awaited host code for
        longer than the clock's ``hung_after`` real seconds counts as settled: only time
        (its attempt timeout) can move it on, so advancing the clock may fire that timeout.
        """
        quiet = 0
        while quiet < 3:
            await anyio.lowlevel.checkpoint()
            if self._group is None:
                return
            idle = self._parked and not self._notified and all(
                self._stuck_on_host(activation) for activation in self._running.values())
            quiet = quiet + 1 if idle else 0
            if not idle:
                await anyio.sleep(0.0005)

    def _stuck_on_host(self, activation: Activation | None) -> bool:
        if activation is None or activation.awaiting_host_since is None:
            return False
        hung_after = float(getattr(self.clock, "hung_after", 2.0))
        return time.monotonic() - activation.awaiting_host_since >= hung_after

    # -- scheduling --------------------------------------------------------------------------

    async def _schedule(self) -> None:
        group = self._group
        assert group is not None
        while True:
            self._notified = False
            free = self.concurrency - len(self._running)
            if free > 0:
                claimed = await self.store.claim_due(self.clock.now(), free)
                journals: dict[int, Journal] = {}
                if claimed:  # one read for the whole claim instead of one per activation
                    try:
                        journals = await self.store.load_journals([r.pk for r in claimed])
                    except Exception:  # a bad row: each activation loads (and fails) alone
                        logger.exception("loading %d journals at once failed", len(claimed))
                for record in claimed:
                    self._running[record.pk] = None  # type: ignore[assignment]
                    group.start_soon(self._activate, record, journals.get(record.pk))
                if claimed:
                    continue
                next_due = await self.store.next_due()
            else:
                next_due = None
            if self._notified:
                continue
            await self._park(next_due)

    async def _park(self, deadline: float | None) -> None:
        with anyio.CancelScope() as scope:
            self._wake_scope = scope
            self._parked = True
            try:
                if self.clock.polls:
                    limit = self.clock.now() + self.poll_interval
                    await self.clock.sleep_until(limit if deadline is None
                                                 else min(deadline, limit))
                elif deadline is None:
                    await anyio.sleep_forever()
                else:
                    await self.clock.sleep_until(deadline)
            finally:
                self._parked = False
                self._wake_scope = None

    async def _activate(self, record: InstanceRecord, journal: Journal | None = None) -> None:
        finish: Finish | None = None
        try:
            plan = await self.load_plan(record.plan_hash)
            if journal is None:
                journal = await self.store.load_journal(record.pk)
            activation = Activation(self, record, plan, journal,
                                    self._grants.get(record.agent_id, frozenset()))
            self._running[record.pk] = activation
            if record.control is not None:
                activation.control = record.control
            finish = await activation.run()
        except (PlanRejected, CorruptRecord, json.JSONDecodeError) as error:
            finish = Finish("errored", error=error_json(error))
        except Exception as error:  # an engine bug must not take other instances down
            logger.exception("activation of %s/%s failed", record.agent_id, record.id)
            finish = Finish("errored", error=json.dumps({
                "name": "EngineError", "message": f"{type(error).__name__}: {error}",
                "step": None}))
        finally:
            with anyio.CancelScope(shield=True):
                if finish is None:  # cancelled (shutdown): hand the instance back untouched
                    finish = Finish("queued", wake_at=self.clock.now())
                try:
                    await self.store.finish(record.pk, finish, self.clock.now())
                except Exception:
                    logger.exception("could not record the end of %s/%s", record.agent_id,
                                     record.id)
                self._running.pop(record.pk, None)
                self.changed(record.agent_id, record.id)
                self.notify()

    async def agent_usage(self, agent_id: str) -> int:
        """Bytes ``agent_id``'s instances store (cached briefly; see ``Limits``)."""
        now = time.monotonic()
        cached = self._agent_usage.get(agent_id)
        if cached is not None and now - cached[0] < _USAGE_TTL:
            return cached[1]
        used = await self.store.agent_storage_bytes(agent_id)
        self._agent_usage[agent_id] = (now, used)
        return used

    def add_agent_usage(self, agent_id: str, size: int) -> None:
        cached = self._agent_usage.get(agent_id)
        if cached is not None:
            self._agent_usage[agent_id] = (cached[0], cached[1] + size)

    async def load_plan(self, plan_hash: str) -> CompiledPlan:
        """The compiled plan pinned by ``plan_hash`` (cached; compiled from the store once)."""
        from agents_durable.plans._compile import cached_plan

        plan = cached_plan(plan_hash)
        if plan is not None:
            return plan
        record = await self.store.get_plan_by_hash(plan_hash)
        if record is None:
            raise CorruptRecord(f"plan version {plan_hash[:12]} is missing from the store")
        policy = PlanPolicy.model_validate_json(record.policy)
        return compile_plan(record.source, policy, cache_as=plan_hash)
