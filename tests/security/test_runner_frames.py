"""A runner's frames are untrusted, also with pipelined commits: a hostile runner that
streams journal rows without waiting cannot get one committed past a breach, and what it
says about its step attempts (``attempt_began``/``attempt_ended``, for the engine's
observer) is checked like every other frame.

The engine's side of an activation (``RemoteActivation``) is driven here by a fake runner
that replays crafted frames: a row of the wrong shape, a row naming an event the instance
does not have, a row past the journal quota, a malformed attempt frame. Each kills the
runner, and no row it sent after the breach is committed, however many were already in the
pipe. An attempt left open by a runner that dies is closed (as failed) in the observer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.engine._models import Limits
from agents_durable.engine._observe import Observer
from agents_durable.engine._runner_activation import RemoteActivation
from agents_durable.engine._runner_pool import RunnerDied
from agents_durable.engine._runner_protocol import fields_of, frame
from agents_durable.store import Finish, StepRecord

pytestmark = pytest.mark.anyio

PLAN = '''
async def run(event, step):
    return await step.do("a", lambda: 1)
'''


class FakeRunner:
    """Plays ``frames`` to the engine as a runner would, then closes its pipe."""

    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self.reader = asyncio.StreamReader()
        for message in frames:
            self.reader.feed_data(frame(message))
        self.reader.feed_eof()
        self.sent: list[dict[str, Any]] = []
        self.killed_for: str | None = None
        self.plans: set[str] = set()
        self.limits: Any = None

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def kill(self, reason: str) -> None:
        self.killed_for = self.killed_for or reason

    async def death_reason(self) -> str:
        return self.killed_for or "its pipe closed"


class FakePool:
    def __init__(self, runner: FakeRunner) -> None:
        self.runner = runner

    async def acquire(self) -> FakeRunner:
        return self.runner

    def release(self, runner: FakeRunner, *, healthy: bool) -> None:
        pass


def row(seq: int, **fields: Any) -> dict[str, Any]:
    step = StepRecord(seq=seq, kind="do", name=f"s{seq}", occurrence=1, state="done",
                      result="1", scope="", position=seq)
    return {"op": "record_step", "step": {**fields_of(step), **fields},
            "consume_event": None}


FINISH = {"op": "finish", "finish": {
    "status": "complete", "output": "1", "logs": []}}


async def _serve(tmp_path: Path, frames: list[dict[str, Any]],
                 limits: Limits | None = None, observer: Observer | None = None,
                 ) -> tuple[FakeRunner, list[int], Any]:
    """Run one activation against ``frames``; the runner, the committed seqs, and the
    finish or the error the activation ended with."""
    async with ad.Engine.open(tmp_path / "engine.db", worker=False,
                              limits=limits) as engine:
        if observer is not None:
            engine.observer = observer
        agent = engine.agent("agent-a")
        await agent.register_plan("p", PLAN)
        await agent.create("p", id="i")
        record = await engine.store.get_instance("agent-a", "i")
        plan = await engine.load_plan(record.plan_hash)
        journal = await engine.store.load_journal(record.pk)
        runner = FakeRunner(frames)
        activation = RemoteActivation(engine, FakePool(runner), record,  # type: ignore[arg-type]
                                      plan, journal, frozenset())
        outcome: Any
        try:
            outcome = await activation.run()
        except RunnerDied as died:
            outcome = died
        steps = (await engine.store.load_journal(record.pk)).steps
    return runner, sorted(steps), outcome


async def test_an_honest_stream_is_committed_in_order(tmp_path: Path) -> None:
    runner, committed, outcome = await _serve(tmp_path, [row(0), row(1), row(2), FINISH])
    assert isinstance(outcome, Finish) and outcome.status == "complete"
    assert committed == [0, 1, 2]
    assert runner.killed_for is None


@pytest.mark.parametrize("breach", [
    {"attempts": "many"},  # a field of the wrong type
    {"nonsense": 1},  # a field no row has
], ids=["wrong_type", "unknown_field"])
async def test_a_malformed_row_kills_the_runner_and_nothing_after_it_commits(
        tmp_path: Path, breach: dict[str, Any]) -> None:
    frames = [row(0), row(1, **breach), row(2), row(3), FINISH]
    runner, committed, outcome = await _serve(tmp_path, frames)
    assert isinstance(outcome, RunnerDied)
    assert runner.killed_for is not None and "protocol" in runner.killed_for
    assert committed == [0]


async def test_a_row_consuming_an_event_the_instance_lacks_is_refused(
        tmp_path: Path) -> None:
    frames = [row(0), {**row(1), "consume_event": 99}, row(2), FINISH]
    _runner, committed, outcome = await _serve(tmp_path, frames)
    assert isinstance(outcome, RunnerDied)
    assert committed == [0]


async def test_a_finish_that_carries_journal_rows_kills_the_runner(tmp_path: Path) -> None:
    # an inline activation's end carries its last rows; a runner's must not (they would
    # skip the checks each record_step frame gets)
    smuggled = row(1)["step"]
    frames = [row(0), {"op": "finish", "finish": {**FINISH["finish"],
                                                  "steps": [[smuggled, None]]}}]
    runner, committed, outcome = await _serve(tmp_path, frames)
    assert isinstance(outcome, RunnerDied)
    assert runner.killed_for is not None and "protocol" in runner.killed_for
    assert committed == [0]


@pytest.mark.parametrize(("limits", "killed_for"), [
    (Limits(max_journal_bytes=4096), "it wrote past the instance's journal quota"),
    # the agent's quota holds against a runner that skips its own check
    (Limits(max_agent_bytes=6000), "it wrote past its agent's storage quota"),
], ids=["instance_journal", "agent_storage"])
async def test_a_row_past_a_storage_quota_is_refused(tmp_path: Path, limits: Limits,
                                                     killed_for: str) -> None:
    frames = [row(0), row(1, result='"' + "x" * 8000 + '"'), row(2), FINISH]
    runner, committed, outcome = await _serve(tmp_path, frames, limits=limits)
    assert isinstance(outcome, RunnerDied)
    assert runner.killed_for == killed_for
    assert committed == [0]


async def test_nothing_is_served_after_an_unknown_request(tmp_path: Path) -> None:
    frames = [row(0), {"op": "steal", "id": 1}, row(1), FINISH]
    _runner, committed, outcome = await _serve(tmp_path, frames)
    assert isinstance(outcome, RunnerDied)
    assert committed == [0]



class Attempts(Observer):
    """Records the step attempts the engine observes, and how each ended."""

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
    observer = Attempts()
    runner, _, outcome = await _serve(tmp_path, [*frames, row(0), FINISH], observer=observer)
    assert isinstance(outcome, RunnerDied)
    assert runner.killed_for is not None and "broke the protocol" in runner.killed_for
    # whatever began was ended: no observation (span) is left open
    assert len([s for s in observer.seen if s[0] == "began"]) == len(
        [s for s in observer.seen if s[0] != "began"])


async def test_an_attempt_open_when_its_runner_dies_is_closed_as_failed(
        tmp_path: Path) -> None:
    observer = Attempts()
    runner, _, outcome = await _serve(tmp_path, [BEGAN], observer=observer)
    assert isinstance(outcome, RunnerDied) and "protocol" not in str(runner.killed_for)
    assert observer.seen[0] == ("began", 1, "a")
    assert observer.seen[1][:2] == ("failed", 1)
    assert "pipe closed" in observer.seen[1][2]


async def test_each_attempt_is_observed_once_with_its_outcome(tmp_path: Path) -> None:
    observer = Attempts()
    _, committed, outcome = await _serve(tmp_path, [
        BEGAN, {"op": "attempt_ended", "key": 7, "error": "ValueError: no"},
        {**BEGAN, "key": 8, "attempt": 2}, {"op": "attempt_ended", "key": 8},
        row(0), FINISH], observer=observer)
    assert isinstance(outcome, Finish) and committed == [0]
    assert observer.seen == [("began", 1, "a"), ("failed", 1, "ValueError: no"),
                             ("began", 2, "a"), ("ended", 2, "a")]
