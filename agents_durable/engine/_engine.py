"""The shared engine: lifecycle, scheduler, and the activation loop.

One anyio task group per engine. The scheduler claims due instances (new, woken timers,
events arrived, released after a crash), runs each claimed instance's activation under a
concurrency limit, and otherwise sleeps until the next due time or an in-process
notification; with the real clock it also polls the database every ``poll_interval``
seconds for work created by other processes (CLI clients). No busy polling while idle.

Faults never fail a plan:

- **Store failures** (disk full, a lock held past the busy timeout, I/O errors) hand the
  activation back (the instance is ``queued`` again, retried with backoff) instead of
  erroring it; the scheduler backs off, logs once per condition and recovers by itself.
  An end that could not be written is retried in-process until it is.
- **Fairness.** Claims go in turns across agents, earliest due first, with a per-agent cap
  on activations (``per_agent_concurrency``) and on tool threads; an activation whose step
  has awaited host code for ``stall_after`` seconds stops counting against
  ``concurrency``, so one agent's hung tools never hold the places of other agents' work.
- **Quarantine** only for instances that really crash the engine: the crash counter is
  reset by every committed step and every verdict, and instances that were in flight at a
  crash run one at a time (probation) until they commit, so a crash storm cannot pin
  two crashes on a bystander.
- **Shutdown drains**: no new claims, running step callbacks finish within
  ``grace_period`` and are committed, then the rest is cancelled and handed back.
- **Leases** (PostgreSQL): every claimed instance carries a fencing token that each of its
  writes names; the engine renews its leases (``_leases.py``) and drops, without writing
  anything, an activation whose lease another worker has taken over.
- **Tools this worker lacks**: instances whose plan names a tool that is not registered
  here, or not granted to their agent, are left for another worker (logged once per plan)
  and re-checked when a tool is registered or an agent is granted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from agents_durable.engine._activation import Activation, error_json
from agents_durable.engine._activation_tasks import ActivationTasks
from agents_durable.engine._clock import Clock, SystemClock
from agents_durable.engine._confinement import ConfinementSettings
from agents_durable.engine._loop_monitor import LoopMonitor
from agents_durable.engine._models import Limits
from agents_durable.engine._observe import Observer, observe_commit, observed, observing
from agents_durable.engine._retention import RetentionPolicy, apply_retention, retention_loop
from agents_durable.engine._runner_activation import RemoteActivation
from agents_durable.engine._runner_pool import RunnerDied, RunnerPool
from agents_durable.engine._store_guard import GuardedStore, is_store_failure
from agents_durable.engine._tools import (
    ToolRegistry,
    missing_tools,
    referenced_tools,
    run_tool,
)
from agents_durable.errors import (
    CorruptRecord,
    EngineClosed,
    LeaseLost,
    PlanRejected,
    ToolUsageError,
    UsageError,
)
from agents_durable.plans._compile import CompiledPlan, cached_plan, compile_plan
from agents_durable.plans._policy import PlanPolicy
from agents_durable.store import (
    Finish,
    InstanceRecord,
    Journal,
    NewInstance,
    Store,
    store_for,
)

__all__ = ["Engine"]

logger = logging.getLogger("agents_durable")
_USAGE_TTL = 30.0

#: Backoff after store failures, in seconds (doubling up to the maximum).
_BACKOFF_START = 0.05
_BACKOFF_MAX = 5.0


@dataclass(eq=False, slots=True)
class _Slot:
    """One claimed instance while this engine runs it."""

    record: InstanceRecord
    suspect: bool
    activation: Activation | RemoteActivation | None = None
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    probing: bool = False
    #: Another worker took the instance over (its lease expired): write nothing more.
    lost: bool = False
    #: Its end is being written: the lease needs no renewal (the end releases it).
    ending: bool = False
    #: Set once its activation has ended and its end was written (or given up); made
    #: only when a successor waits for it (an event per slot costs a herd of wake-ups).
    ended: anyio.Event | None = None
    #: The slot of an earlier activation of the same instance on this worker that lost
    #: its lease and is still unwinding: this one starts only after it ended.
    predecessor: _Slot | None = None


class Engine:
    """One durable engine over one database. Use as ``async with Engine.open(...)``."""

    def __init__(self, store: Store, *, worker: bool = True, clock: Clock | None = None,
                 concurrency: int = 64, limits: Limits | None = None,
                 policy: PlanPolicy | None = None, poll_interval: float = 1.0,
                 quarantine_after: int = 2, per_agent_concurrency: int | None = None,
                 tool_threads_per_agent: int = 40, grace_period: float = 30.0,
                 stall_after: float = 1.0, loop_block_warning: float = 0.5,
                 retention: RetentionPolicy | None = None,
                 isolation: str = "inline", runners: int | None = None,
                 runner_settings: ConfinementSettings | None = None,
                 runner_deadline: float | None = None,
                 runner_recycle_after: int = 500) -> None:
        if isolation not in ("inline", "process"):
            raise UsageError(f"isolation must be 'inline' or 'process', not {isolation!r}")
        if runners is not None and runners < 1:
            raise UsageError("runners must be at least 1")
        if concurrency < 1:
            raise UsageError("concurrency must be at least 1")
        if per_agent_concurrency is not None and per_agent_concurrency < 1:
            raise UsageError("per_agent_concurrency must be at least 1")
        if tool_threads_per_agent < 1:
            raise UsageError("tool_threads_per_agent must be at least 1")
        if grace_period < 0:
            raise UsageError("grace_period must be 0 or more seconds")
        self._guard = GuardedStore(store, on_failure=self._store_trouble,
                                   on_commit=self._committed, on_lost=self.lease_lost)
        self.store: Store = cast(Store, self._guard)
        self.worker = worker
        self.clock: Clock = clock or SystemClock()
        self.concurrency = concurrency
        self.per_agent_concurrency = per_agent_concurrency or concurrency
        self.limits = limits or Limits()
        self.policy = policy or PlanPolicy()
        self.poll_interval = poll_interval
        self.quarantine_after = quarantine_after
        self.grace_period = grace_period
        self._draining = False
        self._claim_done: anyio.Event | None = None  # set while a claim is in flight
        self.stall_after = stall_after
        #: Applied by a worker in the background (see ``_retention``); None keeps all.
        self.retention = retention
        #: Told about work as it runs (metrics, traces); see ``_observe``.
        self.observer: Observer = Observer()
        #: Inline activations commit the rows of steps without effects with their next
        #: commit (``Activation._save``).
        self.defers_commits = True
        self.tools = ToolRegistry(threads_per_agent=tool_threads_per_agent)
        #: ``inline``: plan code runs in this process; ``process``: in confined runner
        #: processes (``_runner_pool``), ``runners`` of them kept started.
        self.isolation = isolation
        self._runner_options = (runners or os.cpu_count() or 2, runner_settings,
                                runner_recycle_after)
        self.runner_deadline = runner_deadline
        self.runner_pool: RunnerPool | None = None
        #: Runner deaths in a row of each instance (a crash of its own activation).
        self._deaths: Counter[int] = Counter()
        self.tools.listener = self._tools_changed
        self.loop_monitor = LoopMonitor(loop_block_warning)
        self._grants: dict[str, frozenset[str]] = {}
        self._policies: dict[str, PlanPolicy] = {}
        self._group: TaskGroup | None = None
        self._activations = ActivationTasks()
        self._exit: contextlib.AsyncExitStack | None = None
        self._open = False
        self._slots: dict[int, _Slot] = {}
        #: Set when a slot ends; made only while someone waits for one (``_slot_ended``):
        #: an event per activation would cost a herd of wake-ups for no listener.
        self._slots_changed: anyio.Event | None = None
        self._agent_running: Counter[str] = Counter()
        #: Ends that could not be written (the store failed), retried by the scheduler.
        self._unfinished: dict[int, tuple[InstanceRecord, Finish]] = {}
        #: Consecutive store failures of each instance's activations (its backoff).
        self._handbacks: Counter[int] = Counter()
        #: ``plan_hash + agent_id`` of plans this worker lacks tools for; claims skip them.
        self._unrunnable: set[str] = set()
        self._reported_unrunnable: set[str] = set()
        self._store_condition: str | None = None
        self._store_failures = 0
        self._scheduler_scope: anyio.CancelScope | None = None
        self._controls_polled = 0.0
        self._notified = False
        self._parked = False
        self._backing_off = False
        self._wake_scope: anyio.CancelScope | None = None
        self._watchers: dict[tuple[str, str], anyio.Event] = {}
        self._runner: asyncio.Task[None] | None = None
        self._runner_failure: list[BaseException] = []
        self._closing: anyio.Event | None = None
        #: agent id -> (when measured, bytes stored): the per-agent storage quota's view,
        #: re-read at most every ``_USAGE_TTL`` seconds and kept current in between.
        self._agent_usage: dict[str, tuple[float, int]] = {}
        #: The earliest slot of any schedule (-inf: not read yet), and when it was read.
        self._schedule_at: float | None = float("-inf")
        self._schedules_read = 0.0
        #: Counts schedule changes: a read that overlapped a change is not trusted.
        self._schedules_version = 0
        #: What the last shutdown did: {"finished": [...], "handed_back": [...],
        #: "unrecorded": [...]} of ``agent/id`` strings (also logged).
        self.shutdown_report: dict[str, list[str]] = {}

    @classmethod
    def open(cls, target: str | os.PathLike[str] = "agents_durable.db", *,
             worker: bool = True, clock: Clock | None = None, concurrency: int = 64,
             limits: Limits | None = None, policy: PlanPolicy | None = None,
             poll_interval: float = 1.0, per_agent_concurrency: int | None = None,
             tool_threads_per_agent: int = 40, grace_period: float = 30.0,
             busy_timeout: float = 10.0, stall_after: float = 1.0,
             retention: RetentionPolicy | None = None,
             isolation: str = "inline", runners: int | None = None,
             runner_settings: ConfinementSettings | None = None,
             runner_deadline: float | None = None,
             runner_recycle_after: int = 500, lease: float | None = None) -> Engine:
        """An engine on a SQLite file path, ``sqlite:///path``, ``:memory:``, or a
        PostgreSQL database ``postgresql://user@host/db`` (extra ``[postgres]``), on which
        any number of workers share the work (see ``store/postgres.py``).

        ``worker=False`` opens a client that registers, creates and signals instances but
        runs nothing (a worker elsewhere does). ``clock=FakeClock()`` makes time testable.
        ``concurrency`` caps running activations, ``per_agent_concurrency`` (default: the
        same) those of one agent, ``tool_threads_per_agent`` the sync tool calls of one
        agent at once. ``grace_period`` (real seconds) is how long shutdown lets running
        steps finish before it cancels them. ``busy_timeout`` is how long a write waits
        for another connection's lock before it is retried later. ``retention`` deletes
        finished instances once they are old enough (a worker applies it).
        ``isolation="process"`` runs plan code in confined runner processes (``runners``
        of them kept started, default one per core; see the README's isolation section),
        ``"inline"`` in this process. ``runner_deadline`` (real seconds; default the
        plan's ``max_slice_seconds`` + 2) is how long a runner may stay silent before it is
        killed; ``runner_recycle_after`` how many activations a runner serves. ``lease``
        (PostgreSQL, default 10) is how many seconds a worker's claim holds without
        renewal: how long the instances of a worker that died stand still before another
        worker takes them.
        """
        text = str(target)
        store: Store
        if text.startswith(("postgres://", "postgresql://")):
            from agents_durable.store.postgres import store_for as postgres_store

            store = postgres_store(text, lease_seconds=lease)
        else:
            store = store_for(target, busy_timeout=busy_timeout)
        return cls(store, worker=worker, clock=clock,
                   concurrency=concurrency, limits=limits, policy=policy,
                   poll_interval=poll_interval, per_agent_concurrency=per_agent_concurrency,
                   tool_threads_per_agent=tool_threads_per_agent, grace_period=grace_period,
                   stall_after=stall_after, retention=retention, isolation=isolation,
                   runners=runners, runner_settings=runner_settings,
                   runner_deadline=runner_deadline, runner_recycle_after=runner_recycle_after)

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
                if self.isolation == "process":
                    warm, settings, recycle_after = self._runner_options
                    pool = RunnerPool(warm=warm, settings=settings,
                                      recycle_after=recycle_after)
                    stack.push_async_callback(pool.aclose)
                    await pool.open()
                    self.runner_pool = pool
                self._group = await stack.enter_async_context(anyio.create_task_group())
                stack.callback(self._stop)
                self._activations = ActivationTasks()  # new for each opening
                self._group.start_soon(self._activations.run)
                self._group.start_soon(self._schedule)
                self._group.start_soon(self.loop_monitor.run)
                if self.retention is not None:
                    self._group.start_soon(retention_loop, self, self.retention)
                lease_seconds = getattr(self._guard.inner, "lease_seconds", None)
                if lease_seconds is not None:
                    from agents_durable.engine._leases import keep_leases

                    self._group.start_soon(keep_leases, self, lease_seconds)
                self.store.set_waker(self.notify)
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

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: Any) -> None:
        self._open = False
        stack, self._exit = self._exit, None
        try:
            if stack is None:
                return
            if exc is not None and isinstance(exc, anyio.get_cancelled_exc_class()):
                # cancelled from outside (or by a failing engine task): stop now, and let
                # the task group see the cancellation so that it can absorb its own
                try:
                    await stack.__aexit__(exc_type, exc, tb)
                except BaseExceptionGroup as group:
                    raise _single(group) from None
                return
            if self._group is not None:
                await self._drain()
            try:
                # the body's exception, if any, is not handed to the task group, so that it
                # leaves this block as itself instead of inside an ExceptionGroup
                await stack.__aexit__(None, None, None)
            except BaseExceptionGroup as group:
                if exc is None:
                    raise _single(group) from None
                logger.error("the engine failed while the block raised %r", exc,
                             exc_info=group)
            except BaseException:
                if exc is None:
                    raise
                logger.exception("the engine failed while the block raised %r", exc)
        finally:
            self._group = None

    async def _drain(self) -> None:
        """Stop claiming; let running step callbacks finish (up to ``grace_period``) and
        commit them; then cancel what is left. Every instance is handed back either way."""
        self._draining = True
        if self._scheduler_scope is not None:
            self._scheduler_scope.cancel()
        # a claim in flight finishes (shielded) and starts its activations: wait for it
        claim_done = self._claim_done
        if claim_done is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(self.grace_period):
                await claim_done.wait()
        started = {pk: slot for pk, slot in self._slots.items()}
        for slot in started.values():
            if slot.activation is not None and slot.activation.control is None:
                slot.activation.control = "drain"  # suspend at the next step boundary
        handed_back: list[str] = []
        if started:
            logger.info("shutting down: letting %d running activation(s) finish their "
                        "steps (up to %g s)", len(started), self.grace_period)
            with anyio.move_on_after(self.grace_period):
                while self._slots:
                    changed = self._slot_ended()
                    await changed.wait()
            for slot in list(self._slots.values()):
                handed_back.append(_name(slot.record))
                slot.scope.cancel()
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                while self._slots:
                    changed = self._slot_ended()
                    await changed.wait()
        # still failing: reported below
        with anyio.CancelScope(shield=True), anyio.move_on_after(2), \
                contextlib.suppress(Exception):
            await self._flush_unfinished()
        unrecorded = sorted(_name(record) for record, _ in self._unfinished.values())
        cancelled = set(handed_back)
        finished = sorted(_name(slot.record) for slot in started.values()
                          if _name(slot.record) not in cancelled)
        self.shutdown_report = {"finished": finished, "handed_back": sorted(handed_back),
                                "unrecorded": unrecorded}
        if started or unrecorded:
            logger.warning(
                "shutdown: %d activation(s) stopped after their running steps were "
                "committed%s; %d cancelled after the %g s grace period and handed back, "
                "their running steps will run again%s%s", len(finished),
                _listed(finished), len(handed_back), self.grace_period,
                _listed(sorted(handed_back)),
                f"; {len(unrecorded)} could not be recorded (the store failed) and are "
                f"released at the next start{_listed(unrecorded)}" if unrecorded else "")

    def check_open(self) -> None:
        if not self._open:
            raise EngineClosed("the engine is closed; use it inside `async with "
                               "Engine.open(...) as engine:`")

    # -- agents --------------------------------------------------------------------------------

    def agent(self, agent_id: str, *, tools: Collection[str] | None = None,
              policy: PlanPolicy | None = None) -> Any:
        """The API scoped to one agent: its plans, its instances, its tool grants.

        ``tools`` replaces the host tools granted to the agent; left out, the agent keeps
        the grants (and ``policy``) it has, so any part of a program can get an agent's
        scope without knowing them.
        """
        from agents_durable.engine._agent import AgentScope

        if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 200:
            raise UsageError("agent_id must be a non-empty string of at most 200 characters")
        if tools is None:
            grants = self._grants.get(agent_id, frozenset())
        else:
            grants = frozenset(tools)
            for name in grants:
                self.tools.get(name)  # raises ToolNotFound for a typo in a grant
            changed = self._grants.get(agent_id) != grants
            self._grants[agent_id] = grants
            if changed:
                self._tools_changed()
        if policy is not None:
            self._policies[agent_id] = policy
        return AgentScope(self, agent_id, grants, policy or self._policies.get(agent_id)
                          or self.policy)

    def scope(self, agent_id: str) -> Any:
        """The API of one agent with the grants and policy it already has (``agent``
        without ``tools``): for surfaces such as the HTTP server."""
        return self.agent(agent_id)

    def _tools_changed(self) -> None:
        """A tool was registered or an agent granted: plans skipped so far may run now."""
        if self._unrunnable:
            self._unrunnable.clear()
            self.notify()

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
        """Tell a running activation to stop: at its next step boundary for ``pause``, at
        once for ``terminate`` and ``restart`` (a hung step is cancelled; the stored
        request then decides the instance's status)."""
        slot = self._slots.get(pk)
        if slot is None:
            return
        activation = slot.activation
        if op in ("terminate", "restart"):
            slot.scope.cancel()
        if activation is not None and op in ("pause", "terminate", "restart"):
            activation.control = op
        elif activation is not None and op == "resume" and activation.control == "pause":
            activation.control = None

    def _slot_ended(self) -> anyio.Event:
        """The event the next end of an activation sets (made on first demand)."""
        if self._slots_changed is None:
            self._slots_changed = anyio.Event()
        return self._slots_changed

    async def stopped(self, pk: int) -> None:
        """Return once this engine no longer runs ``pk`` (at once if it does not)."""
        while pk in self._slots:
            changed = self._slot_ended()
            await changed.wait()

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
            idle = self._parked and (self._backing_off or not self._notified) and all(
                self._stuck_on_host(slot.activation) for slot in self._slots.values())
            quiet = quiet + 1 if idle else 0
            if not idle:
                await anyio.sleep(0.0005)

    def _stuck_on_host(self, activation: Activation | RemoteActivation | None) -> bool:
        if activation is None or activation.awaiting_host_since is None:
            return False
        hung_after = float(getattr(self.clock, "hung_after", 2.0))
        return time.monotonic() - activation.awaiting_host_since >= hung_after

    # -- store trouble -----------------------------------------------------------------------

    def _store_trouble(self, error: BaseException) -> None:
        """Log a store failure once per condition (the first of a run of the same).

        Only a worker logs: it retries by itself. A client's caller gets the error raised
        (the CLI prints it as its one error line), so a log line would say it twice.
        """
        observed(self.observer, "store_failed", error)
        if not self.worker or not self._open:  # opening: the caller gets the error
            return
        cause = error.__cause__ if error.__cause__ is not None else error
        condition = f"{type(cause).__name__}: {cause}"
        if condition != self._store_condition:
            self._store_condition = condition
            logger.warning("the store failed (%s); running instances are handed back and "
                           "retried with backoff until it works again", condition)

    def _store_recovered(self) -> None:
        if self._store_condition is not None:
            logger.warning("the store works again (it failed with %s)", self._store_condition)
            self._store_condition = None
        self._store_failures = 0

    async def before_tool(self, pk: int) -> None:
        """A tool of instance ``pk`` is about to run. A suspect (in flight at a crash, not
        committed since) marks that it reached host code: if the engine dies now, it is
        charged with the crash. Caught earlier (replaying, loading), it is not."""
        slot = self._slots.get(pk)
        if slot is not None and slot.suspect and not slot.probing:
            slot.probing = True
            await self.store.mark_probing(pk)

    async def call_tool(self, record: InstanceRecord, grants: frozenset[str], name: str,
                        args: list[Any], kwargs: dict[str, Any], limit: int) -> Any:
        """Run host tool ``name`` for an activation of ``record``, inline or in a runner.

        The grant is checked here, in the engine, whatever the activation claims.
        """
        if name not in grants:
            raise ToolUsageError(f"tool {name!r} is not granted to agent {record.agent_id!r}")
        await self.before_tool(record.pk)
        with observing(self.observer, "tool", record.agent_id, record.id, name):
            return await run_tool(self.tools, name, args, kwargs, agent_id=record.agent_id,
                                  limit=limit)

    async def latest_plan(self, agent_id: str, name: str) -> tuple[str, int, str] | None:
        version = await self.store.get_plan_version(agent_id, name=name)
        return None if version is None else (version.name, version.version, version.hash)

    async def start_child(self, parent: InstanceRecord, new: NewInstance, *,
                          keep: bool) -> None:
        await self.store.start_child(parent.pk, new, keep=keep)
        self.notify()

    def _committed(self, pk: int) -> None:
        """A journal row of ``pk`` committed: it made progress, so its probation ends."""
        self._deaths.pop(pk, None)
        slot = self._slots.get(pk)
        if slot is not None and slot.suspect:
            slot.suspect = False
            self.notify()

    def held_leases(self) -> dict[int, int]:
        """``{pk: fencing token}`` of every instance this worker runs or must still end."""
        leases = {pk: slot.record.lease for pk, slot in self._slots.items()
                  if not slot.lost and not slot.ending}
        leases.update((pk, record.lease) for pk, (record, _) in self._unfinished.items())
        return leases

    def lease_lost(self, pk: int, lease: int | None = None) -> None:
        """Another worker owns ``pk`` now: stop its activation; write nothing for it.

        ``lease`` is the fencing token the refused write carried: a write of an older
        activation of ``pk`` on this worker (one that lost its lease before this worker
        claimed ``pk`` again) says nothing about the current one."""
        unfinished = self._unfinished.get(pk)
        if unfinished is not None and lease in (None, unfinished[0].lease):
            del self._unfinished[pk]
            logger.warning("dropped the unwritten end of instance #%d: another worker took "
                           "it over after this worker's lease expired", pk)
        slot = self._slots.get(pk)
        if slot is not None and lease not in (None, slot.record.lease):
            return
        if slot is not None and not slot.lost and not slot.ending:
            slot.lost = True
            slot.scope.cancel()
            logger.warning("stopped %s: another worker took it over after this worker's "
                           "lease expired; it replays there", _name(slot.record))

    # -- scheduling --------------------------------------------------------------------------

    def _stalled(self, slot: _Slot) -> bool:
        since = slot.activation.awaiting_host_since if slot.activation else None
        return since is not None and time.monotonic() - since >= self.stall_after

    async def _schedule(self) -> None:
        try:
            await self._schedule_rounds()
        finally:
            self._activations.seal()  # nothing starts activations once the scheduler ends

    async def _schedule_rounds(self) -> None:
        with anyio.CancelScope() as scope:
            self._scheduler_scope = scope
            while True:
                self._notified = False
                try:
                    next_due = await self._round()
                except Exception as error:
                    if not is_store_failure(error):
                        raise
                    self._store_failures += 1
                    delay = min(_BACKOFF_MAX,
                                _BACKOFF_START * 2 ** min(self._store_failures, 20))
                    await self._park(self.clock.now() + delay, wakeable=False)
                    continue
                if next_due is _CLAIMED:
                    continue
                if self._notified:
                    continue
                await self._park(cast("float | None", next_due))

    async def _round(self) -> object:
        """One scheduling round: write pending ends, claim; what to sleep until."""
        await self._flush_unfinished()
        if self._slots and self.clock.polls and \
                time.monotonic() - self._controls_polled >= self.poll_interval:
            # terminate/restart sent by another process (a CLI client) cancel a hung step
            # here too, within a poll interval
            self._controls_polled = time.monotonic()
            for pk, op in await self.store.pending_controls(list(self._slots)):
                self.request_control(pk, op)
        schedule_at = await self._fire_schedules()
        busy = [slot for slot in self._slots.values() if not self._stalled(slot)]
        free = self.concurrency - len(busy)
        if free <= 0:
            return schedule_at
        suspects = sum(1 for slot in self._slots.values() if slot.suspect)
        # Shielded from the claim to the start of its activations: a shutdown landing in
        # between would leave claimed instances `running` with nothing to run them (the
        # claim commits in the store's thread whatever happens to this task). The drain
        # waits for a claim in flight; a draining engine's activations suspend at their
        # first step boundary.
        self._claim_done = claim_done = anyio.Event()
        outcome: object = None
        with anyio.CancelScope(shield=True):
            try:
                outcome = await self._claim(free, suspects, schedule_at)
            finally:
                self._claim_done = None
                claim_done.set()
        return outcome

    async def _claim(self, free: int, suspects: int,
                     schedule_at: float | None) -> object:
        """Claim up to ``free`` instances and start their activations; what to sleep
        until when nothing was claimed."""
        claimed = await self.store.claim_due(
            self.clock.now(), free, per_agent=self.per_agent_concurrency,
            running=dict(self._agent_running), exclude=self._unrunnable,
            suspects=0 if suspects else 1)
        self._store_recovered()
        slots = []
        now = self.clock.now()
        for record in claimed:  # in place before any await: control requests find them
            observed(self.observer, "claimed", record.agent_id,
                     max(0.0, now - (record.wake_at if record.wake_at is not None else now)))
            slot = _Slot(record, suspect=record.crashes > 0)
            earlier = self._slots.get(record.pk)
            if earlier is not None:
                # This worker lost its lease on the instance (it was too slow to renew),
                # the lease was reclaimed and this worker claimed it again while the old
                # activation still unwinds: that one can write nothing more (its token is
                # stale); the new one waits until it is gone, so that one worker never
                # runs two activations of one instance at once.
                earlier.lost = True
                earlier.scope.cancel()
                if earlier.ended is None:
                    earlier.ended = anyio.Event()
                slot.predecessor = earlier
                slot.suspect = False  # it was running here, and here is alive
            stale = self._unfinished.get(record.pk)
            if stale is not None and stale[0].lease != record.lease:
                del self._unfinished[record.pk]  # an end for an old lease: refused anyway
            self._slots[record.pk] = slot
            self._agent_running[record.agent_id] += 1
            slots.append(slot)
        journals: dict[int, Journal] = {}
        if claimed:  # one read for the whole claim instead of one per activation
            try:
                journals = await self.store.load_journals([r.pk for r in claimed])
            except Exception:  # a bad row: each activation loads (and fails) alone
                logger.exception("loading %d journals at once failed", len(claimed))
        for slot in slots:
            self._activations.start(self._activate(slot, journals.get(slot.record.pk)),
                                    slot.scope, name="agents_durable.activation")
        if claimed:
            return _CLAIMED
        # due work left unclaimed (its agent is at its cap, a suspect is on probation, its
        # tools are missing) waits for the notification that changes that, not a timer
        next_due = await self.store.next_due(after=self.clock.now())
        if schedule_at is not None and (next_due is None or schedule_at < next_due):
            return schedule_at
        return next_due

    def schedules_changed(self) -> None:
        """A schedule was added, resumed or changed in this process: look again now."""
        self._schedule_at = float("-inf")
        self._schedules_version += 1
        self.notify()

    async def _fire_schedules(self) -> float | None:
        """Start the instances of due schedule slots; the next slot to park for, if any
        (a slot due already waits for an instance to end: an activation's end wakes us)."""
        from agents_durable.engine._schedules import fire_due

        now = self.clock.now()
        if self._schedule_at == float("-inf") or \
                time.monotonic() - self._schedules_read >= self.poll_interval:
            # read again now and then: another process may have added a schedule
            await self._read_next_schedule()
        if self._schedule_at is not None and float("-inf") < self._schedule_at <= now:
            await fire_due(self, now)
            await self._read_next_schedule()
        if self._schedule_at is not None and self._schedule_at > now:
            return self._schedule_at
        return None  # none, or changed while read: the change's notification brings a round

    async def _read_next_schedule(self) -> None:
        """Read the earliest slot; a schedule added while the read was in flight leaves it
        unread (-inf), so the next round reads again instead of sleeping past it."""
        version = self._schedules_version
        at = await self.store.next_schedule_at()
        self._schedules_read = time.monotonic()
        self._schedule_at = at if version == self._schedules_version else float("-inf")

    async def _flush_unfinished(self) -> None:
        """Write the ends that failed to write before; raise if the store still fails."""
        for pk, (record, finish) in list(self._unfinished.items()):
            with contextlib.suppress(LeaseLost):  # taken over: lease_lost dropped it
                await self.store.finish(pk, finish, self.clock.now(), lease=record.lease)
            self._unfinished.pop(pk, None)
            self.changed(record.agent_id, record.id)

    async def _park(self, deadline: float | None, *, wakeable: bool = True) -> None:
        # real seconds until a step awaiting host code counts as stalled (frees its place)
        pending = [slot.activation.awaiting_host_since for slot in self._slots.values()
                   if slot.activation is not None
                   and slot.activation.awaiting_host_since is not None
                   and not self._stalled(slot)]
        stall_in = (min(pending) + self.stall_after - time.monotonic() + 0.01
                    if pending else None)
        with anyio.CancelScope() as scope:
            if wakeable:
                self._wake_scope = scope
            self._parked, self._backing_off = True, not wakeable
            try:
                with anyio.move_on_after(stall_in if stall_in is not None else float("inf")):
                    if self.clock.polls:
                        limit = self.clock.now() + self.poll_interval
                        await self.clock.sleep_until(limit if deadline is None
                                                     else min(deadline, limit))
                    elif deadline is None:
                        await anyio.sleep_forever()
                    else:
                        await self.clock.sleep_until(deadline)
            finally:
                self._parked = self._backing_off = False
                if wakeable:
                    self._wake_scope = None

    # -- one activation ------------------------------------------------------------------------

    def _needs(self, record: InstanceRecord, plan: CompiledPlan) -> list[str]:
        """The tools ``plan`` names that this worker cannot give ``record``'s agent."""
        needed = referenced_tools(plan.source)
        if not needed:
            return []
        grants = self._grants.get(record.agent_id, frozenset())
        return missing_tools(needed, [name for name in grants if name in self.tools])

    async def _activate(self, slot: _Slot, journal: Journal | None = None) -> None:
        record = slot.record
        finish: Finish | None = None
        failed = False
        self._guard.failed.discard(record.pk)
        try:
            with slot.scope, observing(self.observer, "activation", record.agent_id,
                                       record.id, record.plan_name):
                try:
                    if slot.predecessor is not None:
                        assert slot.predecessor.ended is not None
                        await slot.predecessor.ended.wait()
                        slot.predecessor = None
                        self._guard.failed.discard(record.pk)
                    plan = await self.load_plan(record.plan_hash)
                    missing = self._needs(record, plan)
                    if missing:
                        finish = self._leave_for_others(record, missing)
                        return
                    if journal is None:
                        journal = await self.store.load_journal(record.pk)
                    grants = self._grants.get(record.agent_id, frozenset())
                    activation: Activation | RemoteActivation
                    if self.runner_pool is not None:
                        activation = RemoteActivation(self, self.runner_pool, record, plan,
                                                      journal, grants,
                                                      deadline=self.runner_deadline)
                    else:
                        activation = Activation(self, record, plan, journal, grants)
                    slot.activation = activation
                    if record.control is not None:
                        activation.control = record.control
                    elif self._draining:  # began before its activation existed
                        activation.control = "drain"
                    finish = await activation.run()
                    self._deaths.pop(record.pk, None)
                except LeaseLost:
                    slot.lost = True  # another worker runs it now: nothing more to write
                except RunnerDied as died:
                    finish = self._runner_died(record, died.reason)
                except (PlanRejected, CorruptRecord, json.JSONDecodeError) as error:
                    finish = Finish("errored", error=error_json(error))
                except Exception as error:
                    if is_store_failure(error):
                        failed = True
                        observed(self.observer, "activation_failed", record.agent_id, "store")
                    else:  # an engine bug must not take other instances down
                        observed(self.observer, "activation_failed", record.agent_id,
                                 "engine")
                        logger.exception("activation of %s failed", _name(record))
                        finish = Finish("errored", error=json.dumps({
                            "name": "EngineError",
                            "message": f"{type(error).__name__}: {error}", "step": None}))
        finally:
            with anyio.CancelScope(shield=True):
                await self._end(slot, finish, failed)

    def _runner_died(self, record: InstanceRecord, reason: str) -> Finish:
        """The runner of ``record``'s activation died: a crash of that instance alone.

        Retried (handed back, after a short backoff) until it has killed its runner
        ``quarantine_after`` times in a row without committing a step; then quarantined.
        """
        self._deaths[record.pk] += 1
        deaths = self._deaths[record.pk]
        if deaths >= self.quarantine_after:
            del self._deaths[record.pk]
            logger.warning("quarantined %s: its runner process died %d times in a row "
                           "(last: %s)", _name(record), deaths, reason)
            return Finish("errored", error=json.dumps({
                "name": "QuarantinedError",
                "message": f"the instance's runner process died {deaths} times in a row "
                           f"(last: {reason}); it is not replayed again. Inspect its "
                           "history, fix the plan, then restart it", "step": None}))
        logger.warning("the runner process of %s died (%s); the activation is retried",
                       _name(record), reason)
        now = self.clock.now()
        return Finish("queued", wake_at=now, handed_back=True)

    def _leave_for_others(self, record: InstanceRecord, missing: list[str]) -> Finish:
        key = record.plan_hash + record.agent_id
        self._unrunnable.add(key)
        if key not in self._reported_unrunnable:
            self._reported_unrunnable.add(key)
            logger.warning(
                "leaving instances of plan %r v%d (agent %r) for another worker: this worker "
                "has no %s for that agent. Register and grant them (engine.tools.register, "
                "engine.agent(..., tools=[...])) to run them here", record.plan_name,
                record.plan_version, record.agent_id,
                ", ".join(f"tool {name!r}" for name in missing))
        # untouched: the same due time, the same status as far as a reader can tell
        return Finish("queued", wake_at=record.wake_at, handed_back=True)

    async def _end(self, slot: _Slot, finish: Finish | None, failed: bool) -> None:
        record = slot.record
        slot.ending = True
        now = self.clock.now()
        if record.pk in self._guard.failed:
            # a store call of this activation failed: whatever the plan made of it (it
            # may have caught the error), the instance is handed back, not judged
            self._guard.failed.discard(record.pk)
            failed = True
        if failed:
            self._handbacks[record.pk] += 1
            delay = min(_BACKOFF_MAX * 6,
                        _BACKOFF_START * 4 * 2 ** min(self._handbacks[record.pk], 12))
            finish = Finish("queued", wake_at=now + delay, handed_back=True)
        elif finish is None:  # cancelled (shutdown, terminate): hand it back untouched
            finish = Finish("queued", wake_at=min(record.wake_at or now, now),
                            handed_back=True)
        else:
            self._handbacks.pop(record.pk, None)
        try:
            if not slot.lost:
                await self.store.finish(record.pk, finish, now, lease=record.lease)
                for step, _ in finish.steps:
                    observe_commit(self.observer, record.agent_id, step)
        except LeaseLost:
            pass  # lease_lost stopped it and said so; the new owner replays it
        except Exception as error:
            if not is_store_failure(error):
                logger.exception("could not record the end of %s", _name(record))
            # retried by the scheduler until the store takes it
            self._unfinished[record.pk] = (record, finish)
        finally:
            if self._slots.get(record.pk) is slot:
                del self._slots[record.pk]
            if slot.ended is not None:
                slot.ended.set()
            self._agent_running[record.agent_id] -= 1
            if self._agent_running[record.agent_id] <= 0:
                del self._agent_running[record.agent_id]
            changed, self._slots_changed = self._slots_changed, None
            if changed is not None:
                changed.set()
            self.changed(record.agent_id, record.id)
            self.notify()

    async def apply_retention(self, policy: RetentionPolicy | None = None) -> int:
        """Delete the finished instances ``policy`` (default: the engine's) no longer
        keeps, in small batches; return how many were deleted."""
        self.check_open()
        chosen = policy or self.retention
        if chosen is None:
            raise UsageError("no retention policy: pass one, or open the engine with "
                             "retention=RetentionPolicy(...)")
        return await apply_retention(self, chosen)

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
        plan = cached_plan(plan_hash)
        if plan is not None:
            return plan
        record = await self.store.get_plan_by_hash(plan_hash)
        if record is None:
            raise CorruptRecord(f"plan version {plan_hash[:12]} is missing from the store")
        policy = PlanPolicy.model_validate_json(record.policy)
        return compile_plan(record.source, policy, cache_as=plan_hash)


_CLAIMED = object()


def _name(record: InstanceRecord) -> str:
    return f"{record.agent_id}/{record.id}"


def _listed(names: list[str], limit: int = 20) -> str:
    if not names:
        return ""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f" ({', '.join(names[:limit])}{more})"


def _single(group: BaseExceptionGroup[Any]) -> BaseException:
    """The one exception inside nested single-member groups, else the group itself."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error
