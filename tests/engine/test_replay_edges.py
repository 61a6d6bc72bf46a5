"""Replay at the edges: prints after a recorded failure, journal rows that do not decode."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio


async def test_prints_in_an_except_branch_after_a_timeout_are_kept(engine, clock) -> None:
    agent = engine.agent("a")
    await agent.register_plan("p", '''
async def run(event, step):
    print("waiting for approval")
    try:
        await step.wait_for_event("approval", type="approve", timeout="1 hour")
    except EventTimeout:
        print("no decision; rejecting")
        return "rejected"
    return "approved"
''')
    instance = await agent.create("p", id="i")
    await clock.advance("2 hours")
    final = await instance.wait(timeout=10)
    assert final.output == "rejected"
    lines = [entry.line for entry in (await instance.history()).logs]
    assert lines == ["waiting for approval", "no decision; rejecting"]


async def test_prints_after_a_recorded_step_failure_are_kept(engine, clock) -> None:
    engine.tools.register("broken", lambda: 1 / 0)
    agent = engine.agent("a", tools=["broken"])
    await agent.register_plan("p", '''
async def run(event, step):
    try:
        await step.do("call", lambda: tools.broken(), retries={"limit": 1, "delay": 60})
    except StepFailed as failure:
        print("gave up:", failure.cause)
        return "fallback"
''', )
    instance = await agent.create("p", id="i")
    await clock.advance("2 minutes")
    final = await instance.wait(timeout=10)
    assert final.output == "fallback"
    lines = [entry.line for entry in (await instance.history()).logs]
    assert lines == ["gave up: ToolError"]


async def test_a_journal_row_that_does_not_decode_errors_only_that_instance(
        tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    plan = '''
async def run(event, step):
    first = await step.do("first", lambda: {"n": 1})
    await step.sleep("nap", "1 hour")
    try:
        return first["n"]
    except Exception:
        return "swallowed"
'''
    clock = FakeClock()
    async with ad.Engine.open(path, clock=clock) as engine:
        agent = engine.agent("a")
        await agent.register_plan("p", plan)
        await agent.create("p", id="bad")
        await agent.create("p", id="good")
        await clock.settle()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE steps SET result = '{not json' WHERE name = 'first' AND "
                   "instance_pk = (SELECT pk FROM instances WHERE id = 'bad')")
    async with ad.Engine.open(path, clock=clock) as engine:
        agent = engine.agent("a")
        await clock.advance("1 hour")
        bad = await (await agent.get("bad")).wait(timeout=10)
        good = await (await agent.get("good")).wait(timeout=10)
        journal = await (await agent.get("bad")).history()  # still readable for an operator
    assert bad.status == "errored"
    assert bad.error.name == "CorruptRecord"
    assert "'bad'" in bad.error.message
    assert good.output == 1
    assert journal.steps[0].result == {"undecodable": "{not json"}
