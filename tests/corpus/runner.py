"""Run one corpus task with one plan, replaying after every suspension, and classify it.

A task module (``tests/corpus/tasks/<name>.py``) defines ``TASK``, ``make_tools()``,
``PARAMS``, ``SCENARIO`` and ``check(output, state)``; a plan is the source text of one
module a model wrote for it. :func:`run_task` plays the task as a host would, with one
twist that makes the run as hard as production: **every time the instance suspends, the
engine is closed and a new one is opened on the same SQLite file**, so the next
activation replays from the journal exactly as after a crash. Time moves timer by timer
(each wake-up is its own engine), so a retry delay, a sleep or an event timeout is always
resumed by a fresh engine.

The outcome is one of:

``rejected``  ``register_plan`` raised ``PlanRejected`` (``diagnostics`` keeps them).
``errored``   the instance ended ``errored`` (``error`` has name, message, step, line).
``wrong``     it ran, but the final status was not the expected one or ``check`` failed.
``ok``        final status as expected and ``check`` passed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import anyio

import agents_durable as ad
from agents_durable.engine._durations import parse_duration
from agents_durable.errors import InstanceNotActive, PlanRejected
from agents_durable.testing import FakeClock

__all__ = ["AGENT_ID", "CORPUS", "Outcome", "load_task", "plan_path", "run_task",
           "run_task_sync", "task_names"]

CORPUS = Path(__file__).resolve().parent
TASKS = CORPUS / "tasks"
PLANS = CORPUS / "plans"
AGENT_ID = "corpus-agent"
INSTANCE_ID = "corpus-run"
#: Real seconds an instance may take to finish once the scenario is over and time stands still.
FINAL_WAIT = 0.5
#: After this many engine restarts the runner keeps the engine open (a plan that polls
#: every second would otherwise pay a restart per second of fake time).
MAX_REOPENS = 100
#: Real seconds one task may take in all; a plan that needs more counts as ``wrong``.
REAL_TIME_BUDGET = 20.0
#: How far past a timer the clock steps, so float rounding of the wake time never leaves
#: the timer one tick short of firing.
OVERSHOOT = 0.001

OutcomeClass = Literal["ok", "wrong", "errored", "rejected"]


@dataclass
class Outcome:
    """How one plan did on one task."""

    task: str
    outcome: OutcomeClass
    detail: str = ""
    diagnostics: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    status: str | None = None
    output: Any = None
    reopens: int = 0

    @property
    def accepted(self) -> bool:
        return self.outcome != "rejected"

    def summary(self) -> str:
        """One line for a table or an assertion message."""
        if self.outcome == "rejected":
            return "; ".join(self.diagnostics[:3]) or self.detail
        if self.outcome == "errored" and self.error:
            where = f" in step {self.error['step']!r}" if self.error.get("step") else ""
            line = f" (line {self.error['line']})" if self.error.get("line") else ""
            return f"{self.error['name']}{where}{line}: {self.error['message']}"
        return self.detail


def task_names() -> list[str]:
    """Every task module under ``tasks/``, sorted (files starting with ``_`` are helpers)."""
    return sorted(p.stem for p in TASKS.glob("*.py") if not p.name.startswith("_"))


def load_task(name: str) -> ModuleType:
    """Import ``tests/corpus/tasks/<name>.py``."""
    return importlib.import_module(f"tests.corpus.tasks.{name}")


def plan_path(name: str) -> Path:
    return PLANS / f"{name}.py"


def _error_dict(error: Any) -> dict[str, Any]:
    message = error.message
    found = re.search(r"\bline (\d+)", message)
    return {"name": error.name, "message": message, "step": error.step,
            "line": int(found.group(1)) if found else None}


class _OverBudget(Exception):
    """The task used up its real-time budget (checked between wake-ups, never mid-step)."""


class _Host:
    """The host program: one engine at a time on one SQLite file, reopened at will."""

    def __init__(self, db: Path, clock: FakeClock, tools: dict[str, Callable[..., Any]],
                 budget: float) -> None:
        self.db = db
        self.clock = clock
        self.tools = tools
        self.engine: ad.Engine | None = None
        self.agent: Any = None
        self.reopens = 0
        self.wakes = 0
        self.budget = budget
        self.deadline = time.monotonic() + budget

    async def open(self) -> None:
        engine = ad.Engine.open(self.db, clock=self.clock)
        await engine.__aenter__()
        for name, fn in self.tools.items():
            engine.tools.register(name, fn)
        self.engine = engine
        self.agent = engine.agent(AGENT_ID, tools=sorted(self.tools))

    async def close(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            await engine.__aexit__(None, None, None)

    async def reopen(self) -> None:
        """Close the engine and open a new one: the next activation replays the journal."""
        await self.close()
        await self.open()
        self.reopens += 1

    async def instance(self) -> Any:
        return await self.agent.get(INSTANCE_ID)

    async def status(self) -> Any:
        return await (await self.instance()).status()

    async def settle_and_reopen(self) -> None:
        await self.clock.settle()
        if time.monotonic() > self.deadline:
            raise _OverBudget
        status = await self.status()
        if not status.finished and self.reopens < MAX_REOPENS:
            await self.reopen()
            await self.clock.settle()

    async def advance(self, duration: object) -> None:
        """Move time by ``duration``, one wake-up of the instance at a time."""
        target = self.clock.now() + parse_duration(duration)
        while True:
            status = await self.status()
            wake = status.wake_at.timestamp() if status.wake_at is not None else None
            if status.finished or wake is None or wake > target:
                break
            step_to = min(max(wake, self.clock.now()) + OVERSHOOT, target)
            await self.clock.advance(max(step_to - self.clock.now(), 0.0))
            self.wakes += 1
            await self.settle_and_reopen()
            if self.clock.now() >= target:
                break
        if self.clock.now() < target:
            await self.clock.advance(target - self.clock.now())
            await self.settle_and_reopen()


async def run_task(name: str, source: str, db: Path, *, task: ModuleType | None = None,
                   budget: float = REAL_TIME_BUDGET) -> Outcome:
    """Run task ``name`` with plan ``source`` on a fresh SQLite file ``db``."""
    task = task or load_task(name)
    tools, state = task.make_tools()
    expected_status = getattr(task, "EXPECT_STATUS", "complete")
    clock = FakeClock(getattr(task, "START", None))
    host = _Host(db, clock, tools, budget)
    await host.open()
    try:
        try:
            await host.agent.register_plan(name, source)
        except PlanRejected as rejected:
            return Outcome(name, "rejected", detail=str(rejected),
                           diagnostics=[d.format() for d in rejected.diagnostics])
        try:
            return await _play(name, task, state, expected_status, host)
        except _OverBudget:
            return _finish_early(name, await host.status(), host,
                                 f"the run took more than {host.budget:g} s of real "
                                 f"time ({host.wakes} wake-ups; does the plan wake up "
                                 "very often?)")
    finally:
        await host.close()


async def _play(name: str, task: ModuleType, state: dict[str, Any], expected_status: str,
                host: _Host) -> Outcome:
    """Create the instance, play the scenario, classify the end state."""
    await host.agent.create(name, params=json.loads(json.dumps(task.PARAMS)),
                            id=INSTANCE_ID)
    await host.settle_and_reopen()
    for action in task.SCENARIO:
        kind = action[0]
        if kind == "advance":
            await host.advance(action[1])
        elif kind == "event":
            try:
                await (await host.instance()).send_event(action[1], action[2])
            except InstanceNotActive:  # it already ended; check() judges the result
                continue
            await host.settle_and_reopen()
        elif kind == "expect_status":
            status = await host.status()
            if status.status != action[1]:
                return _finish_early(name, status, host,
                                     f"expected status {action[1]!r} at this point of "
                                     f"the scenario, found {status.status!r}")
        elif kind == "probe":  # a check of the effects so far, e.g. "nothing sent yet"
            try:
                action[1](state)
            except AssertionError as failed:
                return _finish_early(name, await host.status(), host,
                                     f"mid-scenario check failed: {failed}")
        else:  # a malformed scenario is the task's bug, not the plan's
            raise ValueError(f"task {name}: unknown scenario action {action!r}")
    instance = await host.instance()
    try:
        final = await instance.wait(timeout=FINAL_WAIT)
    except TimeoutError:
        final = await instance.status()
    return _classify(name, final, expected_status, task, state, host)


def _finish_early(name: str, status: Any, host: _Host, detail: str) -> Outcome:
    if status.status == "errored" and status.error is not None:
        return Outcome(name, "errored", error=_error_dict(status.error),
                       status=status.status, reopens=host.reopens)
    return Outcome(name, "wrong", detail=detail, status=status.status,
                   output=status.output, reopens=host.reopens)


def _classify(name: str, final: Any, expected_status: str, task: ModuleType,
              state: dict[str, Any], host: _Host) -> Outcome:
    common = {"status": final.status, "output": final.output, "reopens": host.reopens}
    if final.status == "errored" and expected_status != "errored":
        error = _error_dict(final.error) if final.error is not None else None
        return Outcome(name, "errored", error=error, **common)
    if final.status != expected_status:
        wake = f" (wakes at {final.wake_at.isoformat()})" if final.wake_at else ""
        return Outcome(name, "wrong", detail=f"final status {final.status!r}{wake}, "
                       f"expected {expected_status!r}", **common)
    try:
        task.check(final.output, state)
    except Exception as failed:  # any failure of check is a wrong result
        frame = traceback.extract_tb(failed.__traceback__)[-1]
        text = str(failed) or type(failed).__name__
        return Outcome(name, "wrong", detail=f"check failed at line {frame.lineno}: {text}; "
                       f"output={json.dumps(final.output)[:300]}", **common)
    return Outcome(name, "ok", **common)


def run_task_sync(name: str, source: str, db: Path) -> Outcome:
    """:func:`run_task` from synchronous code (the report script)."""
    return anyio.run(run_task, name, source, db, backend="asyncio")


def start_time() -> dt.datetime:
    """When the fake clock starts unless a task sets ``START``: 2026-01-01 00:00 UTC."""
    return FakeClock().datetime()
