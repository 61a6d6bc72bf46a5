"""One activation: a replay of ``run(event, step)`` against the instance's journal.

A step's identity is its scope (the ``step.gather`` branch it runs in, see ``_scopes``), its
position in that scope, and its kind, name and occurrence, so the same code makes the same
steps on every replay however gather branches interleave. A recorded step returns its
stored outcome; a new step executes, and its outcome is committed before anything the
plan does after it reaches the world. Inline, the row of a step without effects (no tool
call: its callback is a pure function of the journal, so running it again gives the same
result) waits in memory for the next commit: the one before a tool call or a child's
start, the activation's end (one transaction with it), or at the latest ``FLUSH_AFTER``
later; a step whose attempt called a tool is committed before the plan goes on. A wake-up
thus costs one commit, not three. In a runner process every row is streamed to the engine
(pipelined, see ``_runner_main``: nothing the plan does after a row leaves the runner
before the row's commit).
When the plan reaches a sleep that is not due, an event wait with nothing buffered, or a
retry delay, the activation persists the wake-up condition and raises ``Suspend``: the
coroutine unwinds and nothing of the instance stays in memory.

Once the activation has decided how it ends (a budget or limit tripped, a suspension, a
divergence), that decision is a fact, not an exception the plan may defeat: ``return``
inside ``finally`` can swallow the signal in flight, so every later tick of plan code, step
creation and step await raises it again, and the end of ``run`` is judged by the decision,
not by what the coroutine returned. No engine signal raised in any task of the activation
(a step callback, a gather branch) ever leaves ``run()``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import inspect
import json
import random
import re
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import anyio.lowlevel

from agents_durable._signals import Abandon, EngineSignal, Fatal, Suspend
from agents_durable.engine._durations import parse_duration, parse_instant
from agents_durable.engine._facades import (
    Event,
    Step,
    StepCall,
    StepContext,
    StepFunction,
    StepFunctionCall,
)
from agents_durable.engine._json import encode_json
from agents_durable.engine._locations import locate
from agents_durable.engine._observe import observe_commit, observing
from agents_durable.engine._quotas import log_quota_exceeded, quota_exceeded, row_bytes
from agents_durable.engine._retries import DEFAULT_RETRIES, DEFAULT_TIMEOUT, retry_delay
from agents_durable.engine._scopes import Scope, current_scope, idempotency_key
from agents_durable.engine._step_functions import WithContext, run_step_function
from agents_durable.engine._store_guard import is_store_failure
from agents_durable.engine._tools import ToolBinding, Tools, current_step
from agents_durable.errors import (
    AgentsDurableError,
    CorruptRecord,
    EventTimeout,
    LeaseLost,
    LimitExceeded,
    NondeterminismError,
    NonRetryableError,
    PlanRuntimeError,
    StepFailed,
    ToolUsageError,
)
from agents_durable.plans._budget import Budget
from agents_durable.plans._builtins import PrintCapture
from agents_durable.plans._compile import CompiledPlan, PlanEntry, instantiate
from agents_durable.plans._guards import PlanAccessError, facade
from agents_durable.plans._sizes import rendered_size, safe_repr
from agents_durable.store import Finish, InstanceRecord, Journal, StepRecord

if TYPE_CHECKING:
    from agents_durable.engine._host import ActivationHost

__all__ = ["DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "Activation", "error_json", "retry_delay"]

#: Errors a step callback raises that come from the plan's own code, not from a tool: they
#: would fail the same way on every attempt, so the step fails at once instead of retrying.
_DETERMINISTIC = (PlanRuntimeError, PlanAccessError, ToolUsageError, NameError)
_STEP_STATES = frozenset({"done", "failed", "waiting", "retrying"})
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")
#: Steps a plan may run back to back without yielding to the event loop: every step is a
#: chance for other activations (and a cancellation) to run, but a yield per step cost a
#: loop turn per step of every wake-up.
_STEPS_PER_YIELD = 16

#: Real seconds the row of a step without effects may wait in memory for the next commit:
#: what a crash can make a long pure computation redo at most (plus one step).
FLUSH_AFTER = 0.05


def error_json(error: BaseException, step: str | None = None,
               location: tuple[int, str] | None = None) -> str:
    """The ``{name, message, step[, line, source]}`` form an instance's error is stored in."""
    name = type(error).__name__
    own = getattr(error, "step", None)
    step = own if isinstance(own, str) else step
    stored: dict[str, Any] = {"name": name, "message": _describe(error), "step": step}
    if location is not None:
        stored["line"], stored["source"] = location
    return json.dumps(stored)


@facade()
class Gather:
    """The awaitable ``step.gather(...)`` returns."""

    __slots__ = ("_activation", "_calls", "_scopes")
    plan_name = "gather"

    def __init__(self, activation: Activation, calls: Sequence[Any],
                 scopes: list[Scope | None]) -> None:
        self._activation = activation
        self._calls = calls
        self._scopes = scopes

    def __await__(self) -> Any:
        activation = self._activation
        result = yield from activation.run_gather(self._calls, self._scopes).__await__()
        activation.budget.resume()
        return result

    def __repr__(self) -> str:
        return "<gather>"


class Activation:
    """Runs one replay of one instance. Created and driven by the engine, inline, or by a
    runner process; ``engine`` is whatever provides ``ActivationHost`` there."""

    def __init__(self, engine: ActivationHost, record: InstanceRecord, plan: CompiledPlan,
                 journal: Journal, grants: frozenset[str]) -> None:
        self.engine = engine
        self.record = record
        self.plan = plan
        self.journal = journal
        self.limits = engine.limits
        self.store = engine.store
        self.clock = engine.clock
        self.grants = grants
        self.root = Scope(self)
        steps = journal.steps
        #: Journals recorded before branch scopes replay by creation order (``_scopes``).
        self.legacy = any(r.position is None for r in steps.values())
        self.recorded: dict[tuple[str, int], StepRecord] = (
            {("", seq): r for seq, r in steps.items()} if self.legacy
            else {(r.scope, r.position or 0): r for r in steps.values()})
        self.next_seq = max(steps) + 1 if steps else 0
        self.journal_bytes = sum(row_bytes(r) for r in steps.values())
        self.waits = sum(1 for r in steps.values() if r.kind == "wait_for_event")
        self.agent_bytes = 0
        self.calls = 0
        self.replayed = 0
        policy = plan.policy
        self.budget = Budget(fuel=policy.fuel, max_depth=policy.max_depth,
                             max_slice_seconds=policy.max_slice_seconds)
        self.printer = PrintCapture(policy.max_print_bytes)
        self.printer.enabled = not steps
        self.events = list(journal.events)
        self.wakes: list[float] = []
        self.suspending = False
        #: The engine-detected failure that ends this activation, once there is one.
        self.failure: AgentsDurableError | None = None
        #: The store error of a journal write that failed: the activation is abandoned
        #: (``run`` raises it, and the engine hands the instance back).
        self.abandoned: Exception | None = None
        self.control: str | None = None
        self.unawaited: dict[int, StepCall] = {}
        #: ``@step.do`` functions by their function name, for injecting results by name.
        self.step_functions: dict[str, StepFunction] = {}
        self.last_step: str | None = None
        #: ``time.monotonic()`` when the step callback in flight started awaiting host
        #: code, else None. A fake clock treats an activation stuck there for a while as
        #: settled, so that advancing time can fire the attempt timeout of a hung tool.
        self.awaiting_host_since: float | None = None
        #: The plan module of this activation, once instantiated.
        self.entry: PlanEntry | None = None
        #: Rows made but not committed yet, by seq, each with the event it consumes (inline
        #: only, see the module docstring), in the order they were first made.
        self.unflushed: dict[int, tuple[StepRecord, int | None]] = {}
        self._unflushed_since = 0.0
        self._defers = engine.defers_commits
        self._flushing: anyio.Lock | None = None
        self._unyielded = 0

    # -- driving the plan ---------------------------------------------------------------------

    async def run(self) -> Finish:
        try:
            finish = await self._drive()
        except BaseException as error:  # nothing raised by plan code leaves the activation
            if _is_cancellation(error):
                raise
            finish = self._ended_by(error)
        finally:
            self._release()
        if self.abandoned is not None:  # whatever the plan made of it: nothing to judge
            raise self.abandoned
        exceeded = log_quota_exceeded(finish.logs, self.limits, self.journal)
        if exceeded is not None:
            quota, kept = exceeded
            finish = Finish("errored", error=error_json(quota, self.last_step), logs=kept)
        if self.unflushed:  # committed with the end, in one transaction
            finish = dataclasses.replace(finish, steps=tuple(self.unflushed.values()))
        return finish

    def _release(self) -> None:
        """Break the activation's reference cycles (root scope -> activation, plan module
        <-> its functions) so that it is freed when it ends, not at the next full
        garbage collection."""
        self.root.owner = None
        if self.entry is not None:
            self.entry.release()
            self.entry = None

    async def _drive(self) -> Finish:
        record = self.record
        try:
            binding = ToolBinding(self.grants, invoke=self._call_tool, owner=self,
                                  limit=self.limits.max_payload_bytes,
                                  max_calls=self.plan.policy.max_tool_calls)
            run = self.entry = instantiate(self.plan, budget=self.budget,
                                           printer=self.printer,
                                           extra={"tools": Tools(binding)})
            event = Event(self._params(), record.id,
                          dt.datetime.fromtimestamp(record.created_at, dt.UTC),
                          record.agent_id)
            self.agent_bytes = await self.engine.agent_usage(record.agent_id)
            self.budget.resume()
            coroutine = run(event, Step(self))
            if not inspect.iscoroutine(coroutine):
                raise PlanRuntimeError("`run` must be an `async def` function")
            output = await coroutine
        except BaseException as error:
            if _is_cancellation(error) and self._decided() is None:
                raise
            return self._ended_by(error)
        # The plan returned normally; if it had been told to stop (a `return` in a
        # `finally` swallowed the signal), the decision stands, not the return value.
        # A cancellation (shutdown) swallowed the same way is raised again, at a loop turn
        # taken only when one is pending: it is on the task until its scope absorbs it.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            await asyncio.sleep(0)
        decided = self._decided()
        if decided is not None:
            return self._ended_by(decided)
        if self.unawaited:
            first = self.unawaited[min(self.unawaited)]
            return self._errored(PlanRuntimeError(
                f"step {first._name!r} was started but never awaited; write "
                f"`await step.{first._kind}(...)`"))
        try:
            text = self._encode(output, what="the output of run()")
        except BaseException as error:
            return self._ended_by(error)
        return Finish("complete", output=text, logs=self._logs())

    async def _call_tool(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        await self.flush()  # every row made before this effect is committed first
        context = current_step.get()
        if context is not None:
            context._effects = True
        return await self.engine.call_tool(self.record, self.grants, name, args, kwargs,
                                           self.limits.max_payload_bytes)

    def _decided(self) -> BaseException | None:
        """The signal this activation already decided to end with, if any (first wins;
        a lost journal write before all: the instance is handed back whatever else)."""
        if self.abandoned is not None:
            return Abandon()
        if self.budget.tripped is not None:
            return Fatal(self.budget.tripped)
        if self.failure is not None:
            return Fatal(self.failure)
        if self.suspending:
            return Suspend()
        return None

    def _ended_by(self, error: BaseException) -> Finish:
        """The end of the activation for ``error``, which may be any exception or group."""
        raised = _leaves(error)
        decided = self._decided()
        leaves = _leaves(decided) if decided is not None else raised
        fatal = next((e for e in leaves if isinstance(e, Fatal)), None)
        if fatal is not None:
            # The signal that carried this failure through plan code knows the plan line.
            carrier = next((e for e in raised if isinstance(e, Fatal)
                            and e.error is fatal.error), fatal)
            return self._errored(fatal.error, raised=carrier)
        if any(isinstance(e, Suspend) for e in leaves):
            wake = min(self.wakes) if self.wakes else None
            if self.control is not None:
                wake = self.clock.now()
            return Finish("waiting", wake_at=wake, logs=self._logs(),
                          last_event_seq=self.journal.last_event_seq)
        plain = next((e for e in leaves if isinstance(e, Exception)), None)
        if plain is not None:
            return self._errored(plain)
        other = leaves[0] if leaves else error
        # SystemExit, KeyboardInterrupt, GeneratorExit from plan code: never the engine's.
        return self._errored(PlanRuntimeError(
            f"the plan raised {type(other).__name__}, which plans may not raise"), raised=other)

    def _params(self) -> Any:
        try:
            return json.loads(self.record.params)
        except ValueError as exc:  # the row was damaged outside the engine
            raise self.fail(CorruptRecord(
                f"the stored params of instance {self.record.id!r} are not valid JSON "
                f"({exc}); the instance cannot run. Restore the row from a backup, or "
                "create a new instance")) from None

    def _errored(self, error: BaseException, *, raised: BaseException | None = None) -> Finish:
        """An errored end; ``raised`` is what carried ``error`` (for the plan line)."""
        located = locate(raised or error, self.plan)
        return Finish("errored", error=error_json(error, self.last_step, located),
                      logs=self._logs())

    def _logs(self) -> tuple[str, ...]:
        lines = self.printer.lines
        if self.printer.dropped:
            lines = [*lines, f"[{self.printer.dropped} print call(s) dropped: the log of one "
                             f"activation is capped at {self.printer.limit} characters]"]
        return tuple(lines)

    def fail(self, error: AgentsDurableError) -> BaseException:
        """Decide that the instance fails with ``error``; returns the signal to raise.

        The first decision wins: after a suspension or a budget trip, it is that one.
        """
        decided = self._decided()
        if decided is not None:
            return decided
        self.failure = error
        self.budget.halt(lambda: Fatal(error))
        return Fatal(error)

    def _abandon(self, error: Exception) -> BaseException:
        """A journal write failed: end the activation (plan code cannot catch the signal,
        and its budget stops it at the next tick), so that nothing after the lost row is
        recorded; ``run`` raises ``error`` for the engine to hand the instance back."""
        if self.abandoned is None:
            self.abandoned = error
        self.budget.halt(Abandon)
        return Abandon()

    def _encode(self, value: Any, *, what: str) -> str:
        return encode_json(value, limit=self.limits.max_result_bytes, what=what,
                           not_json=PlanRuntimeError,
                           too_large=lambda message: self.fail(LimitExceeded(message)))

    def check_not_failed(self) -> None:
        """Raise the failure already decided, if any: no tool runs for a failed instance."""
        if self.budget.tripped is not None:
            raise Fatal(self.budget.tripped)
        if self.failure is not None:
            raise Fatal(self.failure)

    def _check_alive(self) -> None:
        """Raise the decided signal again: after it, the plan can change nothing."""
        decided = self._decided()
        if decided is not None:
            raise decided
        if self._scope().suspended:
            raise Suspend()

    # -- creating step calls --------------------------------------------------------------------

    def _scope(self) -> Scope:
        scope = current_scope.get()
        if self.legacy or scope is None or scope.owner is not self:
            return self.root
        return scope

    def new_call(self, kind: str, name: Any, args: tuple[Any, ...]) -> StepCall:
        self._check_alive()
        if current_step.get() is not None:
            raise PlanRuntimeError(f"step.{kind}() was called inside a step callback; steps "
                                   "cannot be nested. Call it from run() or a helper instead")
        if not isinstance(name, str) or not name or len(name) > 256 or \
                _CONTROL_CHARACTER.search(name) is not None:
            raise PlanRuntimeError(f"step name {safe_repr(name, 200)} must be a non-empty "
                                   "string of at most 256 characters without control "
                                   "characters")
        scope = self._scope()
        position, occurrence = scope.next_position(kind, name)
        if self.calls >= self.limits.max_steps:
            raise self.fail(LimitExceeded(
                f"the instance reached {self.limits.max_steps:,} steps; split the work "
                "across instances"))
        recorded = self.recorded.get((scope.path, position))
        if recorded is not None and (recorded.kind, recorded.name,
                                     recorded.occurrence) != (kind, name, occurrence):
            where = f" in gather branch {scope.path[:-1]}" if scope.path else ""
            raise self.fail(NondeterminismError(
                f"replay diverged at step #{position}{where}: the journal recorded "
                f"{recorded.kind} {recorded.name!r} (occurrence {recorded.occurrence}) but the "
                f"plan now asks for {kind} {name!r} (occurrence {occurrence}). Plans must make "
                "the same step calls in the same order on every run: read time, randomness "
                "and ids only through step.now(), step.random() and step.uuid()",
                recorded=(recorded.kind, recorded.name, recorded.occurrence),
                requested=(kind, name, occurrence)))
        if recorded is not None and recorded.state not in _STEP_STATES:
            raise self.fail(CorruptRecord(
                f"journal row {recorded.seq} of instance {self.record.id!r} has an unknown "
                f"state {recorded.state[:40]!r} (column steps.state); the step is not run "
                "again"))
        call_id = self.calls
        self.calls += 1
        call = StepCall(self, kind, name, occurrence, call_id, scope.path, position, args,
                        recorded)
        self.unawaited[call_id] = call
        return call

    def gather(self, calls: Sequence[Any]) -> Gather:
        self._check_alive()
        if current_step.get() is not None:
            raise PlanRuntimeError("step.gather() was called inside a step callback; steps "
                                   "cannot be nested. Call it from run() or a helper instead")
        limit = self.plan.policy.max_sequence_length
        if len(calls) > min(limit, self.limits.max_steps):
            raise PlanRuntimeError(f"step.gather() of {len(calls):,} awaitables; the most is "
                                   f"{min(limit, self.limits.max_steps):,}")
        for call in calls:
            if not isinstance(call, (StepCall, StepFunctionCall)) and not (
                    inspect.iscoroutine(call)):
                raise PlanRuntimeError("step.gather() takes step calls such as "
                                       "step.do(...) or calls of your async functions")
        scope = self._scope()
        ordinal = scope.gathers
        scope.gathers += 1
        # Every argument runs as its own strand, so one that waits does not stop the
        # others. A step call passed directly keeps the identity it was created with (in
        # this scope); its strand only carries the waiting.
        scopes: list[Scope | None] = [scope.branch(ordinal, index)
                                      for index in range(len(calls))]
        return Gather(self, calls, scopes)

    # -- executing ------------------------------------------------------------------------------

    async def execute(self, call: StepCall) -> Any:
        self.unawaited.pop(call._id, None)
        self._check_alive()
        if current_step.get() is not None:
            raise PlanRuntimeError(f"step {call._name!r} was awaited inside a step callback; "
                                   "steps cannot be nested. Await it in run() or a helper")
        if self.control is not None:
            self.suspending = True
            raise Suspend()
        self.last_step = call._name
        recorded = call._record
        handler = getattr(self, f"_run_{call._kind}")
        try:
            return await handler(call, recorded)
        finally:
            # Past the last recorded step, the plan runs for the first time: capture its
            # prints, also in an ``except`` branch after a recorded failure.
            if recorded is not None:
                self.replayed += 1
            if recorded is None or self.replayed >= len(self.recorded):
                self.printer.enabled = True

    def _suspend(self, wake_at: float | None) -> Suspend:
        """Decide that the current strand waits; the activation ends once the root does."""
        if wake_at is not None:
            self.wakes.append(wake_at)
        scope = self._scope()
        scope.suspended = True
        if scope is self.root and self._decided() is None:
            self.suspending = True
            self.budget.halt(Suspend)
        return Suspend()

    async def _save(self, record: StepRecord, consume_event: int | None = None, *,
                    commit_now: bool = False) -> None:
        # After a failure nothing is recorded. After a decision to suspend, a step that
        # already ran (another gather branch's tool call) is still committed: its effect
        # happened, and dropping its result would make the next activation repeat it.
        self.check_not_failed()
        previous = self.journal.steps.get(record.seq)
        growth = row_bytes(record) - (row_bytes(previous) if previous else 0)
        exceeded = quota_exceeded(self.limits, self.record.agent_id, self.journal_bytes,
                                  self.agent_bytes, growth)
        if exceeded is not None:
            raise self.fail(exceeded)
        if not self._defers:
            await self._commit(record, consume_event)
        self.journal.steps[record.seq] = record
        self.journal_bytes += growth
        self.agent_bytes += growth
        self.engine.add_agent_usage(self.record.agent_id, growth)
        if not self._defers:
            return
        if not self.unflushed:
            self._unflushed_since = time.monotonic()
        earlier = self.unflushed.get(record.seq)  # the same row again keeps its place
        if consume_event is None and earlier is not None:
            consume_event = earlier[1]
        self.unflushed[record.seq] = (record, consume_event)
        if commit_now or time.monotonic() - self._unflushed_since >= FLUSH_AFTER:
            await self.flush()

    async def flush(self) -> None:
        """Commit the rows not committed yet, in the order they were made (before an
        effect, and when they have waited ``FLUSH_AFTER``). Strands flush one at a time,
        so a row is never committed while one made before it may still fail."""
        if self._flushing is None:
            if not self.unflushed:
                return  # nothing to commit, and no other strand is committing
            self._flushing = anyio.Lock()
        async with self._flushing:  # also waits for another strand's flush in flight
            rows, self.unflushed = self.unflushed, {}
            self.check_not_failed()
            if self.abandoned is not None:  # an earlier row was lost: none after it
                raise Abandon()
            for record, consume_event in rows.values():
                await self._commit(record, consume_event)  # a failure abandons: no more

    async def _commit(self, record: StepRecord, consume_event: int | None) -> None:
        try:
            await self.store.record_step(self.record.pk, record,
                                         consume_event=consume_event, lease=self.record.lease)
        except Exception as error:
            if is_store_failure(error) or isinstance(error, LeaseLost):
                raise self._abandon(error) from None
            raise
        observe_commit(self.engine.observer, self.record.agent_id, record)

    def _new_record(self, call: StepCall, state: str, **fields: Any) -> StepRecord:
        seq = self.next_seq
        self.next_seq += 1
        record = StepRecord(seq=seq, kind=call._kind, name=call._name,
                            occurrence=call._occurrence, state=state,
                            scope=call._scope, position=None if self.legacy else call._position,
                            **fields)
        call._record = record
        return record

    def _decode(self, text: str | None, default: Any = None) -> Any:
        """A journal field, or ``Fatal(CorruptRecord)``: a plan must never see the error."""
        if text is None:
            return default
        try:
            return json.loads(text)
        except (ValueError, TypeError) as exc:
            raise self.fail(CorruptRecord(
                f"a journal row of instance {self.record.id!r} could not be decoded "
                f"({exc}); the instance cannot be replayed")) from None

    def _key(self, call: StepCall) -> str:
        return idempotency_key(self.record.agent_id, self.record.id, call._scope, call._name,
                               call._occurrence)

    async def _run_do(self, call: StepCall, recorded: StepRecord | None) -> Any:
        fn, config = call._args
        now = self.clock.now()
        attempts: list[dict[str, Any]] = []
        attempt = 1
        if recorded is not None:
            if recorded.state == "done":
                return self._decode(recorded.result)
            if recorded.state == "failed":
                raise _step_failed(self._decode(recorded.error, {}), call._name)
            config = self._decode(recorded.config) or config
            if not isinstance(config, dict) or "limit" not in config:
                raise self.fail(CorruptRecord(
                    f"the recorded config of step {call._name!r} of instance "
                    f"{self.record.id!r} is damaged (column steps.config)"))
            attempts = self._decode(recorded.detail, [])
            if recorded.wake_at is not None and recorded.wake_at > now:
                raise self._suspend(recorded.wake_at)
            attempt = recorded.attempts + 1
        if not callable(fn):
            raise PlanRuntimeError(f"step.do({call._name!r}, fn): fn must be a function or "
                                   "lambda, not a value")
        wants_context = _wants_context(fn)
        first_started = attempts[0]["started"] if attempts else None
        while True:
            # Immediate retries stay cancellable; a first attempt yields every few steps.
            self._unyielded += 1
            if attempt > 1 or self._unyielded >= _STEPS_PER_YIELD:
                self._unyielded = 0
                await asyncio.sleep(0)
            started = self.clock.now()
            first_started = started if first_started is None else first_started
            context = StepContext(self, call._name, call._occurrence, attempt,
                                  lambda: self._key(call))
            try:
                with observing(self.engine.observer, "step", self.record.agent_id,
                               self.record.id, call._name, attempt):
                    value = await self._attempt(fn, (context,) if wants_context else (), {},
                                                context, config["timeout"])
                text = self._encode(value, what=f"the result of step {call._name!r}")
            except Exception as error:
                ended = self.clock.now()
                message = _describe(error)
                entry: dict[str, Any] = {"attempt": attempt, "started": started,
                                         "ended": ended,
                                         "error": f"{type(error).__name__}: {message}"}
                location = locate(error, self.plan)
                if location is not None:  # the plan line in the callback that raised
                    entry["line"], entry["source"] = location
                attempts.append(entry)
                final = (isinstance(error, (NonRetryableError, *_DETERMINISTIC))
                         or attempt > config["limit"])
                if final:
                    failure = StepFailed(call._name, type(error).__name__, message, attempt)
                    await self._save(self._new_record(
                        call, "failed", error=json.dumps(failure.to_json()),
                        config=json.dumps(config), attempts=attempt,
                        started_at=first_started, ended_at=ended,
                        detail=json.dumps(attempts)), commit_now=context._effects)
                    try:
                        raise failure from None
                    finally:
                        del failure  # its traceback holds this frame: no cycle through it
                delay = retry_delay(config, attempt)
                wake = ended + delay
                await self._save(self._retrying(call, recorded, json.dumps(
                    {"cause": type(error).__name__, "message": message}), config, attempt,
                    first_started, wake, attempts), commit_now=context._effects)
                recorded = call._record
                if delay > 0:
                    raise self._suspend(wake) from None
                attempt += 1
                continue
            ended = self.clock.now()
            attempts.append({"attempt": attempt, "started": started, "ended": ended})
            await self._save(self._finished(call, recorded, text, config, attempt,
                                            first_started, ended, attempts),
                             commit_now=context._effects)
            return json.loads(text)

    def _retrying(self, call: StepCall, recorded: StepRecord | None, error: str,
                  config: dict[str, Any], attempt: int, started: float, wake: float,
                  attempts: list[dict[str, Any]]) -> StepRecord:
        fields = dict(error=error, config=_config_json(config), attempts=attempt,
                      started_at=started, wake_at=wake, detail=json.dumps(attempts))
        if recorded is not None:
            return _updated(recorded, "retrying", **fields)
        return self._new_record(call, "retrying", **fields)

    def _finished(self, call: StepCall, recorded: StepRecord | None, text: str,
                  config: dict[str, Any], attempt: int, started: float, ended: float,
                  attempts: list[dict[str, Any]]) -> StepRecord:
        fields = dict(result=text, config=_config_json(config), attempts=attempt,
                      started_at=started, ended_at=ended, detail=json.dumps(attempts))
        if recorded is not None:
            return _updated(recorded, "done", **fields, error=None, wake_at=None)
        return self._new_record(call, "done", **fields)

    async def _attempt(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                       context: StepContext, timeout: float) -> Any:
        token = current_step.set(context)
        try:
            value = fn(*args, **kwargs)
            if not inspect.isawaitable(value):
                return value
            if isinstance(value, (StepCall, Gather, StepFunctionCall)):
                raise PlanRuntimeError("a step callback returned a step call; steps cannot "
                                       "be nested")
            self.awaiting_host_since = time.monotonic()
            try:
                return await self._with_timeout(value, timeout)
            finally:
                self.awaiting_host_since = None
        finally:
            current_step.reset(token)

    async def _with_timeout(self, awaitable: Any, timeout: float) -> Any:
        result: Any = None
        timed_out = False

        async def watchdog(scope: anyio.CancelScope) -> None:
            nonlocal timed_out
            await self.clock.sleep_until(self.clock.now() + timeout)
            timed_out = True
            scope.cancel()

        failure: BaseException | None = None
        deadline = self.clock.now() + timeout  # checked after the callback, see below
        async with anyio.create_task_group() as group:
            group.start_soon(watchdog, group.cancel_scope)
            try:
                result = await awaitable
            except BaseException as error:  # re-raised below, never as an ExceptionGroup
                if _is_cancellation(error) and timed_out:
                    pass
                elif _is_cancellation(error):
                    raise
                else:
                    failure = error
            finally:
                group.cancel_scope.cancel()
        if failure is not None:
            raise failure
        # a callback that blocked the event loop past its deadline kept the watchdog from
        # firing: enforce the timeout now that control has returned
        timed_out = timed_out or self.clock.now() > deadline
        if timed_out:
            raise TimeoutError(f"the attempt did not finish within {timeout:g} seconds")
        return result

    async def run_step_function(self, function: StepFunction, args: tuple[Any, ...],
                                kwargs: dict[str, Any],
                                call: StepFunctionCall | None = None) -> Any:
        """Run one call of a ``@step.do`` function (see ``_step_functions``)."""
        return await run_step_function(self, function, args, kwargs, call=call)

    async def _run_sleep(self, call: StepCall, recorded: StepRecord | None) -> None:
        if recorded is None:
            (duration,) = call._args
            seconds = parse_duration(duration, what=f"the duration of sleep {call._name!r}")
            self._check_wait(seconds, call)
            wake = self.clock.now() + seconds
            return await self._sleep_to(call, None, wake)
        return await self._sleep_to(call, recorded, recorded.wake_at or 0.0)

    async def _run_sleep_until(self, call: StepCall, recorded: StepRecord | None) -> None:
        if recorded is None:
            (when,) = call._args
            wake = parse_instant(when, what=f"the target of sleep_until {call._name!r}")
            self._check_wait(wake - self.clock.now(), call)
            return await self._sleep_to(call, None, wake)
        return await self._sleep_to(call, recorded, recorded.wake_at or 0.0)

    def _check_wait(self, seconds: float, call: StepCall) -> None:
        if seconds > self.limits.max_sleep_seconds:
            raise self.fail(LimitExceeded(
                f"step {call._name!r} would wait {seconds / 86400:,.1f} days; the limit is "
                f"{self.limits.max_sleep_seconds / 86400:,.0f} days"))

    async def _sleep_to(self, call: StepCall, recorded: StepRecord | None,
                        wake: float) -> None:
        if recorded is not None and recorded.state == "done":
            return None
        now = self.clock.now()
        if wake <= now:
            if recorded is not None:
                await self._save(_updated(recorded, "done", ended_at=now, wake_at=wake))
            else:
                await self._save(self._new_record(call, "done", started_at=now, ended_at=now,
                                                  wake_at=wake))
            return None
        if recorded is None:
            await self._save(self._new_record(call, "waiting", started_at=now, wake_at=wake))
        raise self._suspend(wake)

    async def _run_wait_for_event(self, call: StepCall, recorded: StepRecord | None) -> Any:
        now = self.clock.now()
        if recorded is None:
            event_type, timeout, match = call._args
            if not isinstance(event_type, str) or not event_type or len(event_type) > 200 \
                    or event_type.startswith("agents_durable."):
                raise PlanRuntimeError("wait_for_event needs type='<event type>', a non-empty "
                                       "string of at most 200 characters (not starting with "
                                       "'agents_durable.', the engine's own types)")
            if match is not None and not isinstance(match, dict):
                raise PlanRuntimeError("wait_for_event match= must be a dict of payload "
                                       "fields, e.g. {'order_id': 7}")
            # A deadline already past (`deadline - now` computed by the plan) is a timeout
            # of 0: an event sent earlier is still taken, else EventTimeout at once.
            seconds = parse_duration(_at_least_zero(timeout),
                                     what=f"the timeout of {call._name!r}")
            self._check_wait(seconds, call)
            config: dict[str, Any] = {"type": event_type, "match": match}
            encode_json(match, limit=_MAX_MATCH_BYTES, what="match", not_json=PlanRuntimeError,
                        too_large=PlanRuntimeError)
            if self.waits >= self.limits.max_waits:
                raise self.fail(LimitExceeded(
                    f"the instance reached its quota of {self.limits.max_waits:,} event waits "
                    "(max_waits); wait for one event type and tell events apart by payload"))
            self.waits += 1
            recorded = self._new_record(call, "waiting", config=json.dumps(config),
                                        started_at=now, wake_at=now + seconds)
            fresh = True
        else:
            if recorded.state == "done":
                return self._decode(recorded.result)
            if recorded.state == "failed":
                config = self._decode(recorded.config, {})
                raise EventTimeout(call._name, str(config.get("type", "")))
            config = self._decode(recorded.config, {})
            if not isinstance(config, dict) or not isinstance(config.get("type"), str):
                raise self.fail(CorruptRecord(
                    f"the recorded config of wait {call._name!r} of instance "
                    f"{self.record.id!r} is damaged (column steps.config)"))
            fresh = False
        event = self._take_event(config["type"], config.get("match"))
        if event is not None:
            self.events.remove(event)
            value = {"type": event.type, "payload": self._decode(event.payload),
                     "timestamp": _iso(event.created_at)}
            await self._save(_updated(recorded, "done", result=json.dumps(value),
                                      ended_at=now), consume_event=event.seq)
            return value
        if recorded.wake_at is not None and recorded.wake_at <= now:
            await self._save(_updated(recorded, "failed", ended_at=now, error=json.dumps(
                {"name": "EventTimeout", "type": config["type"]})))
            raise EventTimeout(call._name, config["type"])
        if fresh:
            await self._save(recorded)
        raise self._suspend(recorded.wake_at)

    def _take_event(self, event_type: str, match: dict[str, Any] | None) -> Any:
        for event in self.events:
            if event.type != event_type:
                continue
            if match:
                payload = self._decode(event.payload)
                if not isinstance(payload, dict) or any(
                        payload.get(k, _MISSING) != v for k, v in match.items()):
                    continue
            return event
        return None

    async def _run_now(self, call: StepCall, recorded: StepRecord | None) -> dt.datetime:
        if recorded is None:
            now = self.clock.now()
            recorded = self._new_record(call, "done", result=json.dumps(now), started_at=now,
                                        ended_at=now)
            await self._save(recorded)
        value = self._decode(recorded.result)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.fail(CorruptRecord(f"the recorded time of instance {self.record.id!r} "
                                          "is damaged (column steps.result)"))
        return dt.datetime.fromtimestamp(float(value), dt.UTC)

    async def _run_random(self, call: StepCall, recorded: StepRecord | None) -> float:
        if recorded is None:
            now = self.clock.now()
            value = random.SystemRandom().random()
            recorded = self._new_record(call, "done", result=json.dumps(value),
                                        started_at=now, ended_at=now)
            await self._save(recorded)
        value = self._decode(recorded.result)
        if not isinstance(value, float):
            raise self.fail(CorruptRecord(f"the recorded random number of instance "
                                          f"{self.record.id!r} is damaged (column steps.result)"))
        return value

    async def _run_uuid(self, call: StepCall, recorded: StepRecord | None) -> str:
        if recorded is None:
            now = self.clock.now()
            recorded = self._new_record(call, "done", result=json.dumps(str(uuid.uuid4())),
                                        started_at=now, ended_at=now)
            await self._save(recorded)
        return str(self._decode(recorded.result))

    async def _run_child(self, call: StepCall, recorded: StepRecord | None) -> Any:
        from agents_durable.engine._children import run_child

        return await run_child(self, call, recorded)

    async def run_gather(self, calls: Sequence[Any], scopes: list[Scope | None]) -> list[Any]:
        self._check_alive()
        results: list[Any] = [None] * len(calls)
        errors: list[BaseException | None] = [None] * len(calls)
        signals: list[BaseException] = []
        for call in calls:
            if isinstance(call, StepCall):
                self.unawaited.pop(call._id, None)

        async def one(index: int, awaitable: Any, scope: Scope | None,
                      group: anyio.abc.TaskGroup) -> None:
            if scope is not None:
                current_scope.set(scope)  # this task's context only
            try:
                results[index] = await awaitable
            except EngineSignal as signal:
                signals.append(signal)
            except Exception as error:
                errors[index] = error
            except BaseException as error:
                if _is_cancellation(error):
                    raise
                signals.append(error)  # SystemExit & co from plan code: judged below
            if self.failure is not None or self.budget.tripped is not None:
                group.cancel_scope.cancel()  # the instance fails: stop the other branches

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(one, index, call, scopes[index], group)
        decided = self._decided()
        if decided is not None:
            raise decided
        if any(isinstance(s, Suspend) for s in signals) or any(
                scope is not None and scope.suspended for scope in scopes):
            # Every branch ran until it finished or had to wait: now this strand waits.
            signals = [s for s in signals if not isinstance(s, Suspend)]
            if not signals:
                raise self._suspend(None)
        if signals:
            raise BaseExceptionGroup("gather", signals) if len(signals) > 1 else signals[0]
        for error in errors:
            if error is not None:
                raise error
        return results


_MISSING = object()


_MAX_MATCH_BYTES = 64 * 1024


_CONFIG_TEXTS: dict[tuple[tuple[str, Any], ...], str] = {}


def _config_json(config: dict[str, Any]) -> str:
    """``json.dumps(config)``, remembered: nearly every step of every plan runs under one
    of a few configs (the default, above all), and a wake-up herd encodes it per step."""
    key = tuple(config.items())
    try:
        text = _CONFIG_TEXTS.get(key)
    except TypeError:  # an unhashable value (config is the engine's, so never yet)
        return json.dumps(config)
    if text is None:
        text = json.dumps(config)
        if len(_CONFIG_TEXTS) >= 256:
            _CONFIG_TEXTS.clear()
        _CONFIG_TEXTS[key] = text
    return text


def _updated(record: StepRecord, state: str, **fields: Any) -> StepRecord:
    """``record`` with a new state: the same row (seq, scope, position), rewritten."""
    values = {name: getattr(record, name) for name in StepRecord.__dataclass_fields__}
    values.update(fields, state=state)
    return StepRecord(**values)


def _step_failed(stored: Any, step: str) -> StepFailed:
    """The ``StepFailed`` a journal row recorded, rebuilt identically for replay."""
    if not isinstance(stored, dict):
        stored = {}
    return StepFailed(str(stored.get("step", step)), str(stored.get("cause", "Error")),
                      str(stored.get("message", "")),
                      attempts if isinstance(attempts := stored.get("attempts"), int) else 1)


_MAX_ERROR_TEXT = 4096


def _describe(error: BaseException) -> str:
    """``str(error)`` for the journal, measured first: plan code may raise any value."""
    try:
        if rendered_size(error.args, 4 * _MAX_ERROR_TEXT) > 4 * _MAX_ERROR_TEXT:
            return "(the error's arguments are too large to record)"
        text = str(error)
    except Exception:  # a plan-made value whose rendering fails
        return "(the error could not be rendered)"
    return text if len(text) <= _MAX_ERROR_TEXT else text[:_MAX_ERROR_TEXT] + " [...]"


def _wants_context(fn: Any) -> bool:
    """A callback gets the step context iff its first parameter is required (no default).

    ``lambda w=w: ...`` (binding a loop variable) gets nothing; ``lambda ctx: ...`` gets it.
    """
    if isinstance(fn, WithContext):
        return fn.wants
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    positional = int(code.co_argcount) - (1 if inspect.ismethod(fn) else 0)
    defaults = len(getattr(fn, "__defaults__", None) or ())
    return positional - defaults >= 1


def _at_least_zero(timeout: Any) -> Any:
    """A negative number of seconds or timedelta as 0; anything else unchanged."""
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout < 0:
        return 0
    if isinstance(timeout, dt.timedelta) and timeout < dt.timedelta(0):
        return 0
    return timeout


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        leaves: list[BaseException] = []
        for inner in error.exceptions:
            leaves.extend(_leaves(inner))
        return leaves
    return [error]


def _is_cancellation(error: BaseException) -> bool:
    cancelled = anyio.get_cancelled_exc_class()
    leaves = _leaves(error)
    return bool(leaves) and all(isinstance(e, cancelled) for e in leaves)


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()
