"""An activation run by a runner process, as the engine sees it.

``RemoteActivation`` has the face the scheduler uses of ``Activation`` (``run()``,
``control``, ``awaiting_host_since``) and serves the runner's requests in the engine: it
commits journal rows through the engine's (guarded) store, runs tool calls through
``Engine.call_tool`` (grant-checked here), reports storage usage and, under a fake clock,
the time. Everything from the runner is untrusted: each request is checked for shape,
its journal writes against the instance's and the agent's quotas, its ``finish`` against
the log quota.
The runner tells of each step attempt it begins and ends; the engine observes the attempt
(its trace span) and runs the attempt's tool calls inside that observation.

Journal commits are pipelined: the runner does not wait for them (``_runner_main``). The
read loop commits each ``record_step`` before it reads the next frame, so a runner's rows
are committed in the order sent, and everything the runner sends after a row (a tool call,
a child start, a sleep, ``finish``) is served only once that row is committed. The first
row that cannot be committed (a store failure, a lost lease) abandons the activation:
nothing more the runner sent is read, the runner is killed, and the error leaves ``run()``
for the engine to hand the instance back, as it does for an inline activation. Once a
runner is killed, for any reason, nothing more it sent is served.

The wall-clock deadline: while the runner owes the engine an answer (no request of it is
in flight here), it must send something within ``deadline`` seconds, or it is killed. A
plan's Python code trips its own slice budget long before; the deadline catches what no
budget tick can see, a single C call that runs for minutes.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import logging
import marshal
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from agents_durable.engine._clock import SystemClock
from agents_durable.engine._observe import observe_commit, observing
from agents_durable.engine._quotas import exceeded_quota, log_quota_exceeded, row_bytes
from agents_durable.engine._runner_pool import Runner, RunnerDied, RunnerPool
from agents_durable.engine._runner_protocol import (
    ProtocolError,
    decode_finish,
    decode_new_instance,
    decode_step,
    encode_journal,
    fields_of,
    read_frame,
)
from agents_durable.errors import ToolUsageError
from agents_durable.store import Finish, InstanceRecord, Journal, StepRecord

if TYPE_CHECKING:
    from agents_durable.engine._engine import Engine
    from agents_durable.plans._compile import CompiledPlan

__all__ = ["RemoteActivation"]

logger = logging.getLogger("agents_durable")

#: Seconds past a plan's ``max_slice_seconds`` before the engine kills a silent runner.
DEADLINE_SLACK = 2.0
#: Step attempts a runner may have open at once (``step.gather`` of many steps).
_MAX_OPEN_ATTEMPTS = 10_000


#: Why a runner that sent a row past a storage quota is killed, by ``exceeded_quota``.
_PAST_QUOTA = {"journal": "it wrote past the instance's journal quota",
               "agent": "it wrote past its agent's storage quota"}


class StepAttemptFailed(Exception):
    """A step attempt that failed in a runner, as the engine's observer records it."""


class RemoteActivation:
    """One activation of ``record`` in a runner of ``pool``."""

    def __init__(self, engine: Engine, pool: RunnerPool, record: InstanceRecord,
                 plan: CompiledPlan, journal: Journal, grants: frozenset[str], *,
                 deadline: float | None = None) -> None:
        self.engine = engine
        self.pool = pool
        self.record = record
        self.plan = plan
        self.journal = journal
        self.grants = grants
        self.limits = engine.limits
        self.deadline = deadline if deadline is not None else (
            plan.policy.max_slice_seconds + DEADLINE_SLACK)
        self.awaiting_host_since: float | None = None
        self._control: str | None = None
        self._runner: Runner | None = None
        self._outstanding = 0
        self._tools_running = 0
        self._tool_calls = 0
        self._last_activity = time.monotonic()
        self._requests: dict[int, anyio.CancelScope] = {}
        self._inline_request: tuple[int, str, dict[str, Any], anyio.CancelScope] | None = None
        #: Step attempts running in the runner: the observation entered for each (in a
        #: context of its own, so that its tool calls run inside it).
        self._attempts: dict[int, tuple[contextvars.Context, Any]] = {}
        self._watchdog: asyncio.TimerHandle | None = None
        #: The row of the ``record_step`` just read, committed before the next frame is.
        self._commit_next: tuple[StepRecord, int | None, int] | None = None
        self._journal_bytes = sum(row_bytes(r) for r in journal.steps.values())
        #: The agent's storage usage as this activation counts it (read at its start):
        #: the agent's quota is enforced here too, not only by the (untrusted) runner.
        self._agent_bytes = 0
        self._events = {event.seq for event in journal.events}
        big = max(self.limits.max_payload_bytes, self.limits.max_result_bytes)
        self._frame_limit = 4 * big + 1024 * 1024

    @property
    def control(self) -> str | None:
        return self._control

    @control.setter
    def control(self, value: str | None) -> None:
        self._control = value
        if self._runner is not None:
            self._runner.send({"op": "control", "value": value})

    async def run(self) -> Finish:
        # asked here, not by the runner: one round trip less per activation
        usage = await self.engine.agent_usage(self.record.agent_id)
        self._agent_bytes = usage
        runner = await self.pool.acquire()
        self._runner = runner
        healthy = False
        try:
            runner.send(self._start_message(runner, usage))
            finish = await self._serve(runner)
            healthy = True
            return finish
        finally:
            self._runner = None
            if not healthy:
                runner.kill("its activation was stopped")
            self.pool.release(runner, healthy=healthy)

    def _start_message(self, runner: Runner, usage: int) -> dict[str, Any]:
        engine = self.engine
        start: dict[str, Any] = {"plan_hash": self.record.plan_hash}
        if self.record.plan_hash not in runner.plans:
            # the code the engine compiled (and validated): the runner compiles nothing
            runner.plans.add(self.record.plan_hash)
            start.update(code=base64.b64encode(marshal.dumps(self.plan.code)).decode(),
                         source=self.plan.source, policy=self.plan.policy.model_dump_json())
        if runner.limits is not self.limits:  # sent (and validated there) once per runner
            runner.limits = self.limits
            start["limits"] = self.limits.model_dump(mode="json")
        return {"op": "start", "record": fields_of(self.record),
                "journal": encode_journal(self.journal), **start,
                "grants": sorted(self.grants), "usage": usage,
                "clock": "system" if isinstance(engine.clock, SystemClock) else "mirror",
                "now": engine.clock.now(), "control": self._control,
                "observe_steps": engine.observer.observes_steps}

    async def _serve(self, runner: Runner) -> Finish:
        finish: Finish | None = None
        failure: str | None = None
        abandoned: Exception | None = None
        self._arm_watchdog(self.deadline)
        try:
            async with anyio.create_task_group() as group:
                finish, failure, abandoned = await self._read_loop(runner, group)
                group.cancel_scope.cancel()
        finally:
            if self._watchdog is not None:
                self._watchdog.cancel()
            self._end_attempts(failure or (None if abandoned is None else
                                           f"the activation was abandoned ({abandoned})"))
        if abandoned is not None:
            raise abandoned
        if failure is not None:
            raise RunnerDied(failure)
        assert finish is not None
        return finish

    async def _read_loop(self, runner: Runner, group: anyio.abc.TaskGroup
                         ) -> tuple[Finish | None, str | None, Exception | None]:
        """Serve the runner's frames in order until its ``finish``; return it, or why the
        runner died, or the error of the commit that abandoned the activation."""
        finish: Finish | None = None
        failure: str | None = None
        abandoned: Exception | None = None
        while finish is None:
            message = await self._next_frame(runner)
            if message is None or runner.killed_for is not None:
                # dead, or killed: whatever else it sent is never served
                failure = await runner.death_reason()
                break
            self._last_activity = time.monotonic()
            try:
                finish = self._take(message, group)
            except (ProtocolError, KeyError, TypeError, ValueError) as exc:
                runner.kill(f"it broke the protocol ({exc})")
                continue
            row, self._commit_next = self._commit_next, None
            if row is not None:
                try:
                    await self._commit(*row)
                except Exception as error:  # the commit failed: abandon the activation
                    abandoned = error
                    break
            request, self._inline_request = self._inline_request, None
            if request is not None:
                await self._answer(*request)
        return finish, failure, abandoned

    async def _next_frame(self, runner: Runner) -> dict[str, Any] | None:
        """The runner's next frame, or None once its pipe is closed or it broke framing."""
        try:
            return await read_frame(runner.reader, self._frame_limit)
        except ProtocolError as exc:
            runner.kill(f"it broke the protocol ({exc})")
        except OSError:
            pass
        return None

    def _take(self, message: dict[str, Any], group: anyio.abc.TaskGroup) -> Finish | None:
        op = message["op"]
        if op == "finish":
            return self._checked_finish(decode_finish(message["finish"]))
        if op == "record_step":  # pipelined: no id, no reply (see the module docstring)
            self._commit_next = self._checked_row(message)
            return None
        if op == "cancel":
            scope = self._requests.get(message["id"])
            if scope is not None:
                scope.cancel()
            return None
        if op == "attempt_began":
            self._attempt_began(message)
            return None
        if op == "attempt_ended":
            self._attempt_ended(message["key"], message.get("error"))
            return None
        if op not in ("agent_usage", "tool", "sleep_until", "latest_plan", "start_child"):
            raise ProtocolError(f"unknown request {op[:40]!r}")
        ident = message["id"]
        if not isinstance(ident, int) or ident in self._requests:
            raise ProtocolError("a request id must be a new integer")
        scope = anyio.CancelScope()
        self._requests[ident] = scope
        self._outstanding += 1
        if op == "agent_usage":
            # a store call, served in order in the read loop: it serializes on the store
            # anyway, and a task per call would cost more than the wait
            self._inline_request = (ident, op, message, scope)
            return None
        key = message.get("attempt") if op == "tool" else None
        attempt = self._attempts.get(key) if isinstance(key, int) else None
        if attempt is not None:  # the tool call runs inside its step attempt's observation
            attempt[0].run(group.start_soon, self._answer, ident, op, message, scope)
        else:
            group.start_soon(self._answer, ident, op, message, scope)
        return None

    def _attempt_began(self, message: dict[str, Any]) -> None:
        """Observe a step attempt the runner began, as the inline activation does."""
        key, name, attempt = message["key"], message["name"], message["attempt"]
        if not isinstance(key, int) or key in self._attempts or not isinstance(name, str) \
                or type(attempt) is not int:
            raise ProtocolError("attempt_began needs a new key, a step name and an attempt")
        if len(self._attempts) >= _MAX_OPEN_ATTEMPTS:
            raise ProtocolError(f"more than {_MAX_OPEN_ATTEMPTS} step attempts at once")
        context = contextvars.copy_context()
        observation = observing(self.engine.observer, "step", self.record.agent_id,
                                self.record.id, name[:200], attempt)
        context.run(observation.__enter__)
        self._attempts[key] = (context, observation)

    def _attempt_ended(self, key: Any, error: Any) -> None:
        entry = self._attempts.pop(key, None) if isinstance(key, int) else None
        if entry is None:
            raise ProtocolError("attempt_ended names no attempt that began")
        context, observation = entry
        if error is None:
            context.run(observation.__exit__, None, None, None)
        else:
            failed = StepAttemptFailed(str(error)[:500])
            context.run(observation.__exit__, StepAttemptFailed, failed, None)

    def _end_attempts(self, failure: str | None) -> None:
        """End the observations of attempts still open when the activation ends (the
        runner died, or broke off): as failed, with the reason."""
        for key in list(self._attempts):
            self._attempt_ended(key, failure or "the activation ended during the attempt")

    def _checked_row(self, message: dict[str, Any]) -> tuple[StepRecord, int | None, int]:
        """The journal row a ``record_step`` asks for, with the event it consumes and the
        journal bytes it adds; a ``ProtocolError`` (the runner is killed) for a row of the
        wrong shape, an event the instance does not have, or one over the journal quota."""
        step = decode_step(message["step"])
        consume = message.get("consume_event")
        if consume is not None and consume not in self._events:
            raise ProtocolError("consume_event names no event of this instance")
        previous = self.journal.steps.get(step.seq)
        growth = row_bytes(step) - (row_bytes(previous) if previous else 0)
        kind = exceeded_quota(self.limits, self._journal_bytes, self._agent_bytes, growth)
        if kind is not None:  # an honest runner fails the instance before sending the row
            if self._runner is not None:
                self._runner.kill(_PAST_QUOTA[kind])
            raise ProtocolError(f"{kind} quota")
        return step, consume, growth

    async def _commit(self, step: StepRecord, consume: int | None, growth: int) -> None:
        """Commit one row of the runner's, in the read loop; a store error propagates (the
        activation is abandoned). The watchdog does not count a slow commit against the
        runner."""
        engine = self.engine
        self._outstanding += 1
        try:
            await engine.store.record_step(self.record.pk, step, consume_event=consume,
                                           lease=self.record.lease)
        finally:
            self._outstanding -= 1
            self._last_activity = time.monotonic()
        observe_commit(engine.observer, self.record.agent_id, step)
        self.journal.steps[step.seq] = step
        self._journal_bytes += growth
        self._agent_bytes += growth
        engine.add_agent_usage(self.record.agent_id, growth)

    def _checked_finish(self, finish: Finish) -> Finish:
        exceeded = log_quota_exceeded(finish.logs, self.limits, self.journal)
        if exceeded is not None:
            return Finish("errored", error=json.dumps({
                "name": "LimitExceeded", "message": str(exceeded[0]), "step": None}),
                logs=exceeded[1])
        return finish

    async def _answer(self, ident: int, op: str, message: dict[str, Any],
                      scope: anyio.CancelScope) -> None:
        runner = self._runner
        reply: dict[str, Any] = {"op": "reply", "id": ident}
        try:
            with scope:
                reply["value"] = await self._handle(op, message)
        except Exception as error:
            if isinstance(error, ProtocolError) and runner is not None:
                runner.kill(f"it broke the protocol ({error})")
            name = type(error).__name__
            if name not in ("ToolError", "ToolUsageError", "ToolNotFound",
                            "NonRetryableError", "TimeoutError", "InstanceExists"):
                name = "HostRequestFailed"
            reply["error"] = {"name": name, "message": str(error)}
        finally:
            self._requests.pop(ident, None)
            self._outstanding -= 1
            self._last_activity = time.monotonic()
        if scope.cancelled_caught:
            return
        if not isinstance(self.engine.clock, SystemClock):
            reply["now"] = self.engine.clock.now()
        if runner is not None:
            runner.send(reply)

    async def _handle(self, op: str, message: dict[str, Any]) -> Any:
        engine = self.engine
        if op == "agent_usage":
            return await engine.agent_usage(self.record.agent_id)
        if op == "sleep_until":
            await engine.clock.sleep_until(float(message["deadline"]))
            return None
        if op == "latest_plan":  # always of this activation's own agent
            if not isinstance(message.get("name"), str):
                raise ProtocolError("latest_plan needs a plan name")
            found = await engine.latest_plan(self.record.agent_id, message["name"])
            return None if found is None else list(found)
        if op == "start_child":
            new = decode_new_instance(message.get("new"))
            if new.agent_id != self.record.agent_id:  # a runner cannot act for another agent
                raise ProtocolError("a child belongs to its parent's agent")
            await engine.start_child(self.record, new, keep=message.get("keep") is True)
            return None
        name, args, kwargs = message["name"], message["args"], message["kwargs"]
        if not isinstance(name, str) or not isinstance(args, list) or not isinstance(
                kwargs, dict):
            raise ProtocolError("a tool call needs a name, args and kwargs")
        self._tool_calls += 1
        if self._tool_calls > self.plan.policy.max_tool_calls:
            raise ToolUsageError(
                f"more than {self.plan.policy.max_tool_calls} tool calls in one activation")
        self._tools_running += 1
        if self.awaiting_host_since is None:
            self.awaiting_host_since = time.monotonic()
        try:
            return await engine.call_tool(self.record, self.grants, name, args, kwargs,
                                          self.limits.max_payload_bytes)
        finally:
            self._tools_running -= 1
            if self._tools_running == 0:
                self.awaiting_host_since = None

    def _arm_watchdog(self, delay: float) -> None:
        """Check the wall-clock deadline in ``delay`` seconds: a timer of the event loop,
        not a task, so that an activation costs no task start and cancellation."""
        self._watchdog = asyncio.get_running_loop().call_later(delay, self._check_deadline)

    def _check_deadline(self) -> None:
        runner = self._runner
        if runner is None:
            return
        if self._outstanding:  # the engine owes the runner an answer: not its time
            self._arm_watchdog(min(self.deadline, 0.5))
            return
        remaining = self._last_activity + self.deadline - time.monotonic()
        if remaining <= 0:
            runner.kill(f"a slice of its plan ran past the {self.deadline:g} s "
                        "wall-clock deadline")
            return
        self._arm_watchdog(remaining)
