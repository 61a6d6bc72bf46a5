"""Pipelined journal commits in process isolation: what a runner may not get ahead of.

A runner sends each journal row and runs on without waiting for its commit. These tests
hold the engine to the rules that make that safe, from the outside (a store that fails or
slows its ``record_step``, and the tool calls the engine serves):

- the first row that fails to commit abandons the activation: the rows before it are
  committed, nothing after it is, not even when the plan would have caught the error,
  and the instance is handed back and re-runs the failed step, and only it, on retry;
- a tool call is served only once every row the runner sent before it is committed;
- ``finish`` is acted on only once every row is committed.

Each test also runs inline, where the rules hold too (a failed journal write abandons
an inline activation with a signal plan code cannot catch), so both modes stay one
behaviour. Inline, the rows of steps without effects are committed with the next commit
(here the finish, in its transaction) instead of one by one; a step that called a tool is
committed before the plan goes on.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest

import agents_durable as ad
from agents_durable.store import SQLiteStore
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

STEPS = 6

#: Every step calls the tool (served by the engine) and then the plan catches any error
#: a step raises and goes on: a plan that would record more after a failed commit.
TOOL_STEPS = f'''
async def run(event, step):
    done = []
    for k in range({STEPS}):
        try:
            done.append(await step.do("s" + str(k), lambda: tools.work(k)))
        except Exception:
            done.append(-1)
    return done
'''

#: Steps with no host call at all: the runner streams every row and its finish at once.
PLAIN_STEPS = f'''
async def run(event, step):
    total = 0
    for k in range({STEPS}):
        total += await step.do("s" + str(k), lambda: k)
    return total
'''


class RecordingStore:
    """A real ``SQLiteStore`` whose ``record_step`` fails at its ``fail_at``-th call
    (1-based) and otherwise takes ``delay`` seconds; it lists the rows it committed."""

    def __init__(self, path: Path, *, fail_at: int | None = None, delay: float = 0.0) -> None:
        self.inner = SQLiteStore(path)
        self.fail_at = fail_at
        self.delay = delay
        self.attempts = 0
        self.committed: list[str] = []
        self.finished_with: list[int] = []  # rows committed when each finish was written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def record_step(self, pk: int, step: Any, **kwargs: Any) -> None:
        self.attempts += 1
        if self.attempts == self.fail_at:
            raise sqlite3.OperationalError("database or disk is full")
        if self.delay:
            await anyio.sleep(self.delay)
        await self.inner.record_step(pk, step, **kwargs)
        self.committed.append(step.name)

    async def finish(self, pk: int, finish: Any, now: float, **kwargs: Any) -> str:
        status = await self.inner.finish(pk, finish, now, **kwargs)
        # rows an inline activation had not committed yet go in the finish's transaction
        self.committed.extend(step.name for step, _ in finish.steps)
        self.finished_with.append(len(self.committed))
        return status


async def _create(engine: ad.Engine, source: str, work: Any = lambda k: k) -> Any:
    engine.tools.register("work", work)
    agent = engine.agent("agent-a", tools=["work"])
    await agent.register_plan("p", source)
    return await agent.create("p", id="i")


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("fail_at", [1, 3, STEPS])
async def test_a_failed_commit_abandons_the_activation_at_that_row(
        tmp_path: Path, fail_at: int, isolation: str) -> None:
    store = RecordingStore(tmp_path / "engine.db", fail_at=fail_at)
    clock = FakeClock()
    calls: list[int] = []
    async with ad.Engine(store, clock=clock, isolation=isolation, runners=1) as engine:
        instance = await _create(engine, TOOL_STEPS, lambda k: calls.append(k) or k * 10)
        await clock.settle()
        # the rows before the failed one are committed, and nothing after it: the tool
        # of the next step was never called (its request came after the failed row)
        assert store.committed == [f"s{k}" for k in range(fail_at - 1)]
        assert calls == list(range(fail_at))
        status = await instance.status()
        assert status.status in ("queued", "waiting"), status  # handed back, not judged
        for _ in range(6):  # the hand-back's backoff is in fake time
            await clock.advance("1 minute")
            status = await instance.status()
            if status.finished:
                break
    assert (status.status, status.output) == ("complete", [k * 10 for k in range(STEPS)])
    # on retry the failed step ran again, and only it
    assert calls == [*range(fail_at), *range(fail_at - 1, STEPS)]
    assert store.committed == [f"s{k}" for k in range(STEPS)]


async def test_no_row_streamed_after_a_failed_one_is_committed(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "engine.db", fail_at=2, delay=0.02)
    clock = FakeClock()
    async with ad.Engine(store, clock=clock, isolation="process", runners=1) as engine:
        instance = await _create(engine, PLAIN_STEPS)
        await clock.settle()
        # the runner had sent every row and its finish by the time row 2 failed
        assert store.committed == ["s0"]
        assert store.attempts == 2
        assert (await instance.status()).status in ("queued", "waiting")
        for _ in range(6):
            await clock.advance("1 minute")
            if (await instance.status()).finished:
                break
        status = await instance.status()
    assert (status.status, status.output) == ("complete", sum(range(STEPS)))
    assert store.committed == [f"s{k}" for k in range(STEPS)]


@pytest.mark.parametrize("isolation", ["inline", "process"])
async def test_a_tool_call_waits_for_the_rows_sent_before_it(
        tmp_path: Path, isolation: str) -> None:
    store = RecordingStore(tmp_path / "engine.db", delay=0.02)  # slow commits
    seen: list[tuple[int, int]] = []

    def work(k: int) -> int:
        seen.append((k, len(store.committed)))
        return k * 10

    async with ad.Engine(store, isolation=isolation, runners=1) as engine:
        instance = await _create(engine, TOOL_STEPS, work)
        status = await instance.wait(timeout=30)
    assert status.status == "complete"
    # step k's tool ran once the rows of steps 0..k-1 were all committed
    assert seen == [(k, k) for k in range(STEPS)]


@pytest.mark.parametrize("isolation", ["inline", "process"])
async def test_finish_waits_for_every_row(tmp_path: Path, isolation: str) -> None:
    store = RecordingStore(tmp_path / "engine.db", delay=0.02)
    async with ad.Engine(store, isolation=isolation, runners=1) as engine:
        instance = await _create(engine, PLAIN_STEPS)
        status = await instance.wait(timeout=30)
    assert (status.status, status.output) == ("complete", sum(range(STEPS)))
    assert store.finished_with == [STEPS]
    assert [s.name for s in status.steps] == [f"s{k}" for k in range(STEPS)]
