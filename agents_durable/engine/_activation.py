"""One activation: a replay of ``run(event, step)`` against the instance's journal.

Step identity is ``(kind, name, occurrence)`` and its position ``seq`` is assigned when the
plan *creates* the step call, so the same code makes the same sequence on every replay.
A recorded step returns its stored outcome; a new step executes, and its outcome is
committed before the plan sees it. When the plan reaches a sleep that is not due, an event
wait with nothing buffered, or a retry delay, the activation persists the wake-up
condition and raises ``Suspend``: the coroutine unwinds (any ``finally`` in the plan that
starts a step just suspends again) and nothing of the instance stays in memory.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import random
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio

from agents_durable._signals import EngineSignal, Fatal, Suspend
from agents_durable.engine._durations import parse_duration, parse_instant
from agents_durable.engine._facades import Event, Step, StepCall, StepContext
from agents_durable.engine._json import encode_json
from agents_durable.engine._tools import ToolBinding, Tools, current_step
from agents_durable.errors import (
    CorruptRecord,
    EventTimeout,
    LimitExceeded,
    NondeterminismError,
    NonRetryableError,
    PlanRuntimeError,
    StepFailed,
)
from agents_durable.plans._budget import Budget
from agents_durable.plans._builtins import PrintCapture
from agents_durable.plans._compile import CompiledPlan, instantiate
from agents_durable.plans._guards import facade
from agents_durable.plans._sizes import rendered_size
from agents_durable.store import Finish, InstanceRecord, Journal, StepRecord

if TYPE_CHECKING:
    from agents_durable.engine._engine import Engine

__all__ = ["Activation", "error_json"]

_BACKOFFS = ("constant", "linear", "exponential")
_RETRY_KEYS = frozenset({"limit", "delay", "backoff"})
DEFAULT_RETRIES = {"limit": 5, "delay": 10.0, "backoff": "exponential"}
DEFAULT_TIMEOUT = 600.0


def error_json(error: BaseException, step: str | None = None) -> str:
    """The ``{name, message, step}`` form an instance's error is stored in."""
    name = type(error).__name__
    step = getattr(error, "step", None) if isinstance(getattr(error, "step", None), str) else step
    return json.dumps({"name": name, "message": str(error), "step": step})


def retry_delay(config: dict[str, Any], attempt: int) -> float:
    """Delay after failed attempt ``attempt`` (1-based), per SPEC 2.2."""
    delay = float(config["delay"])
    backoff: str = config["backoff"]
    if backoff == "exponential":
        return delay * 2.0 ** (attempt - 1)
    if backoff == "linear":
        return delay * attempt
    return delay


@facade()
class Gather:
    """The awaitable ``step.gather(...)`` returns."""

    __slots__ = ("_activation", "_calls")
    plan_name = "gather"

    def __init__(self, activation: Activation, calls: Sequence[Any]) -> None:
        self._activation = activation
        self._calls = calls

    def __await__(self) -> Any:
        activation = self._activation
        result = yield from activation.run_gather(self._calls).__await__()
        activation.budget.resume()
        return result


class Activation:
    """Runs one replay of one instance. Created and driven by the engine."""

    def __init__(self, engine: Engine, record: InstanceRecord, plan: CompiledPlan,
                 journal: Journal, grants: frozenset[str]) -> None:
        self.engine = engine
        self.record = record
        self.plan = plan
        self.journal = journal
        self.limits = engine.limits
        self.store = engine.store
        self.clock = engine.clock
        self.grants = grants
        self.seq = 0
        self.occurrences: dict[tuple[str, str], int] = {}
        self.last_recorded = max(journal.steps) if journal.steps else -1
        policy = plan.policy
        self.budget = Budget(fuel=policy.fuel, max_depth=policy.max_depth,
                             max_slice_seconds=policy.max_slice_seconds)
        self.printer = PrintCapture(policy.max_print_bytes)
        self.printer.enabled = self.last_recorded < 0
        self.events = list(journal.events)
        self.wakes: list[float] = []
        self.suspending = False
        self.control: str | None = None
        self.unawaited: dict[int, StepCall] = {}
        self.last_step: str | None = None
        #: ``time.monotonic()`` when the step callback in flight started awaiting host
        #: code, else None. A fake clock treats an activation stuck there for a while as
        #: settled, so that advancing time can fire the attempt timeout of a hung tool.
        self.awaiting_host_since: float | None = None

    # -- driving the plan ---------------------------------------------------------------------

    async def run(self) -> Finish:
        record = self.record
        try:
            binding = ToolBinding(self.engine.tools, self.grants, owner=self,
                                  limit=self.limits.max_payload_bytes,
                                  max_calls=self.plan.policy.max_tool_calls)
            run = instantiate(self.plan, budget=self.budget, printer=self.printer,
                              extra={"tools": Tools(binding)})
            event = Event(self._params(), record.id,
                          dt.datetime.fromtimestamp(record.created_at, dt.UTC),
                          record.agent_id)
            self.budget.resume()
            coroutine = run(event, Step(self))
            if not inspect.iscoroutine(coroutine):
                raise PlanRuntimeError("`run` must be an `async def` function")
            output = await coroutine
            if self.unawaited:
                first = self.unawaited[min(self.unawaited)]
                raise PlanRuntimeError(
                    f"step {first._name!r} was started but never awaited; write "
                    f"`await step.{first._kind}(...)`")
            text = self._encode(output, what="the output of run()")
            return Finish("complete", output=text, logs=self._logs())
        except Suspend:
            wake = min(self.wakes) if self.wakes else None
            if self.control is not None:
                wake = self.clock.now()
            return Finish("waiting", wake_at=wake, logs=self._logs(),
                          last_event_seq=self.journal.last_event_seq)
        except Fatal as fatal:
            return self._errored(fatal.error)
        except Exception as error:
            return self._errored(error)

    def _params(self) -> Any:
        try:
            return json.loads(self.record.params)
        except ValueError as exc:  # the row was damaged outside the engine
            raise CorruptRecord(f"the stored params of instance {self.record.id!r} are not "
                                f"valid JSON ({exc}); the instance cannot run. Restore the "
                                "row from a backup, or create a new instance") from None

    def _errored(self, error: BaseException) -> Finish:
        return Finish("errored", error=error_json(error, self.last_step), logs=self._logs())

    def _logs(self) -> tuple[str, ...]:
        lines = self.printer.lines
        if self.printer.dropped:
            lines = [*lines, f"[{self.printer.dropped} print call(s) dropped: the log of one "
                             f"activation is capped at {self.printer.limit} characters]"]
        return tuple(lines)

    def _encode(self, value: Any, *, what: str) -> str:
        return encode_json(value, limit=self.limits.max_result_bytes, what=what,
                           not_json=PlanRuntimeError,
                           too_large=lambda message: Fatal(LimitExceeded(message)))

    # -- creating step calls --------------------------------------------------------------------

    def new_call(self, kind: str, name: Any, args: tuple[Any, ...]) -> StepCall:
        if current_step.get() is not None:
            raise PlanRuntimeError(f"step.{kind}() was called inside a step callback; steps "
                                   "cannot be nested. Call it from run() or a helper instead")
        if not isinstance(name, str) or not name or len(name) > 256 or any(
                ord(c) < 32 or ord(c) == 127 for c in name):
            raise PlanRuntimeError(f"step name {name!r} must be a non-empty string of at most "
                                   "256 characters without control characters")
        key = (kind, name)
        occurrence = self.occurrences.get(key, 0) + 1
        self.occurrences[key] = occurrence
        seq = self.seq
        self.seq += 1
        if seq >= self.limits.max_steps:
            raise Fatal(LimitExceeded(f"the instance reached {self.limits.max_steps:,} steps; "
                                      "split the work across instances"))
        recorded = self.journal.steps.get(seq)
        if recorded is not None and (recorded.kind, recorded.name,
                                     recorded.occurrence) != (*key, occurrence):
            raise Fatal(NondeterminismError(
                f"replay diverged at step #{seq}: the journal recorded "
                f"{recorded.kind} {recorded.name!r} (occurrence {recorded.occurrence}) but the "
                f"plan now asks for {kind} {name!r} (occurrence {occurrence}). Plans must make "
                "the same step calls in the same order on every run: read time, randomness "
                "and ids only through step.now(), step.random() and step.uuid()"))
        call = StepCall(self, kind, name, occurrence, seq, args)
        self.unawaited[seq] = call
        return call

    def step_config(self, retries: Any, timeout: Any) -> dict[str, Any]:
        config = dict(DEFAULT_RETRIES)
        if retries is not None:
            if not isinstance(retries, dict):
                raise PlanRuntimeError("retries must be a dict like {'limit': 3, 'delay': "
                                       "'5 seconds', 'backoff': 'exponential'}")
            unknown = sorted(set(map(str, retries)) - _RETRY_KEYS)
            if unknown:
                raise PlanRuntimeError(f"unknown retries option(s) {unknown}; use limit, "
                                       "delay and backoff")
            if "limit" in retries:
                limit = retries["limit"]
                if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                    raise PlanRuntimeError("retries['limit'] must be an int >= 0")
                config["limit"] = limit
            if "delay" in retries:
                config["delay"] = parse_duration(retries["delay"], what="retries['delay']")
            if "backoff" in retries:
                if retries["backoff"] not in _BACKOFFS:
                    raise PlanRuntimeError("retries['backoff'] must be 'constant', 'linear' "
                                           "or 'exponential'")
                config["backoff"] = retries["backoff"]
        config["timeout"] = (DEFAULT_TIMEOUT if timeout is None
                             else parse_duration(timeout, what="timeout"))
        return config

    def gather(self, calls: Sequence[Any]) -> Gather:
        for call in calls:
            if not isinstance(call, StepCall) and not inspect.iscoroutine(call):
                raise PlanRuntimeError("step.gather() takes step calls such as "
                                       "step.do(...) or calls of your async functions")
        return Gather(self, calls)

    # -- executing ------------------------------------------------------------------------------

    async def execute(self, call: StepCall) -> Any:
        self.unawaited.pop(call._seq, None)
        if self.suspending or self.control is not None:
            self.suspending = True
            raise Suspend()
        self.last_step = call._name
        recorded = self.journal.steps.get(call._seq)
        handler = getattr(self, f"_run_{call._kind}")
        try:
            return await handler(call, recorded)
        finally:
            # Past the last recorded step, the plan runs for the first time: capture its
            # prints, also in an ``except`` branch after a recorded failure.
            if call._seq >= self.last_recorded:
                self.printer.enabled = True

    def _suspend(self, wake_at: float | None) -> Suspend:
        if wake_at is not None:
            self.wakes.append(wake_at)
        self.suspending = True
        return Suspend()

    async def _save(self, record: StepRecord, consume_event: int | None = None) -> None:
        await self.store.record_step(self.record.pk, record, consume_event=consume_event)
        self.journal.steps[record.seq] = record

    def _new_record(self, call: StepCall, state: str, **fields: Any) -> StepRecord:
        return StepRecord(seq=call._seq, kind=call._kind, name=call._name,
                          occurrence=call._occurrence, state=state, **fields)

    def _decode(self, text: str | None, default: Any = None) -> Any:
        """A journal field, or ``Fatal(CorruptRecord)``: a plan must never see the error."""
        if text is None:
            return default
        try:
            return json.loads(text)
        except (ValueError, TypeError) as exc:
            raise Fatal(CorruptRecord(
                f"a journal row of instance {self.record.id!r} could not be decoded "
                f"({exc}); the instance cannot be replayed")) from None

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
            attempts = self._decode(recorded.detail, [])
            if recorded.wake_at is not None and recorded.wake_at > now:
                raise self._suspend(recorded.wake_at)
            attempt = recorded.attempts + 1
        if not callable(fn):
            raise PlanRuntimeError(f"step.do({call._name!r}, fn): fn must be a function or "
                                   "lambda, not a value")
        wants_context = _arity(fn) >= 1
        while True:
            started = self.clock.now()
            context = StepContext(self, call._name, call._occurrence, attempt,
                                  f"{self.record.id}/{call._name}/{call._occurrence}")
            try:
                value = await self._attempt(fn, context, wants_context, config["timeout"])
                text = self._encode(value, what=f"the result of step {call._name!r}")
            except Exception as error:
                ended = self.clock.now()
                message = _describe(error)
                attempts.append({"attempt": attempt, "started": started, "ended": ended,
                                 "error": f"{type(error).__name__}: {message}"})
                final = (isinstance(error, (NonRetryableError, PlanRuntimeError))
                         or attempt > config["limit"])
                if final:
                    failure = StepFailed(call._name, type(error).__name__, message, attempt)
                    await self._save(self._new_record(
                        call, "failed", error=json.dumps(failure.to_json()),
                        config=json.dumps(config), attempts=attempt,
                        started_at=attempts[0]["started"], ended_at=ended,
                        detail=json.dumps(attempts)))
                    raise failure from None
                delay = retry_delay(config, attempt)
                wake = ended + delay
                await self._save(self._new_record(
                    call, "retrying", error=json.dumps({"cause": type(error).__name__,
                                                        "message": message}),
                    config=json.dumps(config), attempts=attempt,
                    started_at=attempts[0]["started"], wake_at=wake,
                    detail=json.dumps(attempts)))
                if delay > 0:
                    raise self._suspend(wake) from None
                attempt += 1
                continue
            ended = self.clock.now()
            attempts.append({"attempt": attempt, "started": started, "ended": ended})
            await self._save(self._new_record(
                call, "done", result=text, config=json.dumps(config), attempts=attempt,
                started_at=attempts[0]["started"], ended_at=ended,
                detail=json.dumps(attempts)))
            return json.loads(text)

    async def _attempt(self, fn: Any, context: StepContext, wants_context: bool,
                       timeout: float) -> Any:
        token = current_step.set(context)
        try:
            value = fn(context) if wants_context else fn()
            if not inspect.isawaitable(value):
                return value
            if isinstance(value, (StepCall, Gather)):
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

        failure: Exception | None = None
        deadline = self.clock.now() + timeout  # checked after the callback, see below
        async with anyio.create_task_group() as group:
            group.start_soon(watchdog, group.cancel_scope)
            try:
                result = await awaitable
            except Exception as error:  # re-raised below, not wrapped in an ExceptionGroup
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
            raise Fatal(LimitExceeded(
                f"step {call._name!r} would wait {seconds / 86400:,.1f} days; the limit is "
                f"{self.limits.max_sleep_seconds / 86400:,.0f} days"))

    async def _sleep_to(self, call: StepCall, recorded: StepRecord | None,
                        wake: float) -> None:
        if recorded is not None and recorded.state == "done":
            return None
        now = self.clock.now()
        if wake <= now:
            await self._save(self._new_record(call, "done", started_at=(
                recorded.started_at if recorded else now), ended_at=now, wake_at=wake))
            return None
        if recorded is None:
            await self._save(self._new_record(call, "waiting", started_at=now, wake_at=wake))
        raise self._suspend(wake)

    async def _run_wait_for_event(self, call: StepCall, recorded: StepRecord | None) -> Any:
        now = self.clock.now()
        if recorded is None:
            event_type, timeout, match = call._args
            if not isinstance(event_type, str) or not event_type:
                raise PlanRuntimeError("wait_for_event needs type='<event type>', a non-empty "
                                       "string")
            if match is not None and not isinstance(match, dict):
                raise PlanRuntimeError("wait_for_event match= must be a dict of payload "
                                       "fields, e.g. {'order_id': 7}")
            seconds = parse_duration(timeout, what=f"the timeout of {call._name!r}")
            self._check_wait(seconds, call)
            config: dict[str, Any] = {"type": event_type, "match": match}
            self._encode(match, what="match")
            recorded = self._new_record(call, "waiting", config=json.dumps(config),
                                        started_at=now, wake_at=now + seconds)
            fresh = True
        else:
            if recorded.state == "done":
                return self._decode(recorded.result)
            if recorded.state == "failed":
                config = self._decode(recorded.config, {})
                raise EventTimeout(call._name, config.get("type", ""))
            config = self._decode(recorded.config, {})
            fresh = False
        event = self._take_event(config["type"], config.get("match"))
        if event is not None:
            self.events.remove(event)
            value = {"type": event.type, "payload": json.loads(event.payload),
                     "timestamp": _iso(event.created_at)}
            recorded.state, recorded.result, recorded.ended_at = "done", json.dumps(value), now
            await self._save(recorded, consume_event=event.seq)
            return value
        if recorded.wake_at is not None and recorded.wake_at <= now:
            recorded.state, recorded.ended_at = "failed", now
            recorded.error = json.dumps({"name": "EventTimeout", "type": config["type"]})
            await self._save(recorded)
            raise EventTimeout(call._name, config["type"])
        if fresh:
            await self._save(recorded)
        raise self._suspend(recorded.wake_at)

    def _take_event(self, event_type: str, match: dict[str, Any] | None) -> Any:
        for event in self.events:
            if event.type != event_type:
                continue
            if match:
                payload = json.loads(event.payload)
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
        return dt.datetime.fromtimestamp(float(self._decode(recorded.result)), dt.UTC)

    async def _run_random(self, call: StepCall, recorded: StepRecord | None) -> float:
        if recorded is None:
            now = self.clock.now()
            value = random.SystemRandom().random()
            recorded = self._new_record(call, "done", result=json.dumps(value),
                                        started_at=now, ended_at=now)
            await self._save(recorded)
        return float(self._decode(recorded.result))

    async def _run_uuid(self, call: StepCall, recorded: StepRecord | None) -> str:
        if recorded is None:
            now = self.clock.now()
            recorded = self._new_record(call, "done", result=json.dumps(str(uuid.uuid4())),
                                        started_at=now, ended_at=now)
            await self._save(recorded)
        return str(self._decode(recorded.result))

    async def run_gather(self, calls: Sequence[Any]) -> list[Any]:
        results: list[Any] = [None] * len(calls)
        errors: list[BaseException | None] = [None] * len(calls)
        signals: list[EngineSignal] = []
        for call in calls:
            if isinstance(call, StepCall):
                self.unawaited.pop(call._seq, None)

        async def one(index: int, awaitable: Any) -> None:
            try:
                results[index] = await awaitable
            except EngineSignal as signal:
                signals.append(signal)
            except Exception as error:
                errors[index] = error

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(one, index, call)
        fatal = next((s for s in signals if isinstance(s, Fatal)), None)
        if fatal is not None:
            raise fatal
        if signals:
            self.suspending = True
            raise Suspend()
        for error in errors:
            if error is not None:
                raise error
        return results


_MISSING = object()


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
    if rendered_size(error.args, 4 * _MAX_ERROR_TEXT) > 4 * _MAX_ERROR_TEXT:
        return "(the error's arguments are too large to record)"
    text = str(error)
    return text if len(text) <= _MAX_ERROR_TEXT else text[:_MAX_ERROR_TEXT] + " [...]"


def _arity(fn: Any) -> int:
    code = getattr(fn, "__code__", None)
    if code is None:
        return 0
    count = int(code.co_argcount)
    return count - 1 if inspect.ismethod(fn) else count


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()

