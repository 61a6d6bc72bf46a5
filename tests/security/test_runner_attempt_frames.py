"""What a compromised runner may say about its step attempts: the engine checks every
``attempt_began``/``attempt_ended`` frame, a frame that breaks the protocol kills that
runner and costs only its activation, and an attempt left open by a runner that dies is
closed (as failed) in the engine's observer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.engine._observe import Observer
from agents_durable.engine._runner_activation import RemoteActivation
from agents_durable.engine._runner_pool import RunnerDied
from agents_durable.engine._runner_protocol import frame
from agents_durable.plans._compile import compile_plan
from agents_durable.store import InstanceRecord, Journal

pytestmark = pytest.mark.anyio

PLAN = "async def run(event, step):\n    return await step.do('a', lambda: 1)\n"


class ScriptedRunner:
    """Plays a runner that sends ``frames``, then hangs up."""

    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self.reader = asyncio.StreamReader()
        for message in frames:
            self.reader.feed_data(frame(message))
        self.reader.feed_eof()
        self.killed_for: str | None = None
        self.plans: set[str] = set()

    def send(self, message: dict[str, Any]) -> None:
        pass

    def kill(self, reason: str) -> None:
        self.killed_for = self.killed_for or reason

    async def death_reason(self) -> str:
        return self.killed_for or "the runner's pipe closed"


class OnePool:
    def __init__(self, runner: ScriptedRunner) -> None:
        self.runner = runner

    async def acquire(self) -> ScriptedRunner:
        return self.runner

    def release(self, runner: ScriptedRunner, *, healthy: bool) -> None:
        pass


class Attempts(Observer):
    def __init__(self) -> None:
        self.seen: list[tuple[str, int, str]] = []

    @contextlib.contextmanager
    def step(self, agent_id: str, instance_id: str, name: str, attempt: int) -> Iterator[None]:
        self.seen.append(("began", attempt, name))
        try:
            yield
        except BaseException as error:
            self.seen.append(("failed", attempt, str(error)))
            raise
        self.seen.append(("ended", attempt, name))


async def play(tmp_path: Path, frames: list[dict[str, Any]]
               ) -> tuple[ScriptedRunner, Attempts, BaseException | None]:
    runner = ScriptedRunner(frames)
    observer = Attempts()
    plan = compile_plan(PLAN)
    record = InstanceRecord(pk=1, agent_id="a", id="i", plan_name="p", plan_version=1,
                            plan_hash=plan.hash, params="{}", status="running",
                            output=None, error=None, created_at=0.0, updated_at=0.0,
                            wake_at=None, control=None, paused_at=None, crashes=0)
    async with ad.Engine.open(tmp_path / "t.db", worker=False) as engine:
        engine.observer = observer
        activation = RemoteActivation(engine, OnePool(runner), record, plan,  # type: ignore[arg-type]
                                      Journal(steps={}, events=[], last_event_seq=0,
                                              log_lines=0, log_bytes=0), frozenset())
        try:
            await activation.run()
        except RunnerDied as died:
            return runner, observer, died
    return runner, observer, None


BEGAN = {"op": "attempt_began", "key": 7, "name": "a", "attempt": 1}


@pytest.mark.parametrize("frames", [
    [{"op": "attempt_ended", "key": 7}],
    [{**BEGAN, "key": "7"}],
    [BEGAN, BEGAN],
    [{**BEGAN, "attempt": True}],
    [{**BEGAN, "name": ["a"]}],
    [{"op": "attempt_began", "key": 7}],
], ids=["end-of-nothing", "text-key", "same-key-twice", "bool-attempt", "list-name",
        "no-name"])
async def test_a_malformed_attempt_frame_kills_the_runner(
        tmp_path: Path, frames: list[dict[str, Any]]) -> None:
    runner, observer, died = await play(tmp_path, frames)
    assert died is not None
    assert runner.killed_for is not None and "broke the protocol" in runner.killed_for
    # whatever began was ended: no observation (span) is left open
    assert len([s for s in observer.seen if s[0] == "began"]) == len(
        [s for s in observer.seen if s[0] != "began"])


async def test_an_attempt_open_when_its_runner_dies_is_closed_as_failed(
        tmp_path: Path) -> None:
    runner, observer, died = await play(tmp_path, [BEGAN])
    assert died is not None and "protocol" not in (runner.killed_for or "")
    assert observer.seen[0] == ("began", 1, "a")
    assert observer.seen[1][:2] == ("failed", 1)
    assert "pipe closed" in observer.seen[1][2]


async def test_an_attempt_that_ended_is_observed_once(tmp_path: Path) -> None:
    _, observer, _ = await play(tmp_path, [
        BEGAN, {"op": "attempt_ended", "key": 7, "error": "ValueError: no"},
        {**BEGAN, "key": 8, "attempt": 2}, {"op": "attempt_ended", "key": 8}])
    assert observer.seen == [("began", 1, "a"), ("failed", 1, "ValueError: no"),
                             ("began", 2, "a"), ("ended", 2, "a")]
