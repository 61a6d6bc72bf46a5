"""``Engine.start()``/``aclose()``: an engine that outlives the task that opened it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

PLAN = '''
async def run(event, step):
    await step.sleep("nap", "1 hour")
    return await step.do("answer", lambda: event.payload["n"] * 2)
'''


async def test_engine_opened_in_one_task_is_used_and_closed_in_others(tmp_path: Path) -> None:
    clock = FakeClock()
    engine = ad.Engine.open(tmp_path / "db.sqlite", clock=clock)

    # Like notebook cells: each step runs in a task of its own.
    await asyncio.create_task(engine.start())
    agent = engine.agent("nb")

    async def cell() -> ad.InstanceStatus:
        await agent.register_plan("double", PLAN)
        instance = await agent.create("double", {"n": 21}, id="first")
        await clock.advance("1 hour")
        return await instance.wait(timeout=10)

    status = await asyncio.create_task(cell())
    assert status.output == 42
    await asyncio.create_task(engine.aclose())
    with pytest.raises(ad.EngineClosed):
        await agent.get("first")
    await engine.aclose()  # twice is harmless


async def test_start_reports_open_failures_and_a_second_start(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    async with ad.Engine.open(path, clock=FakeClock()):
        with pytest.raises(ad.EngineLocked):
            await ad.Engine.open(path, clock=FakeClock()).start()
    engine = await ad.Engine.open(path, clock=FakeClock()).start()
    try:
        with pytest.raises(ad.UsageError, match="already open"):
            await engine.start()
    finally:
        await engine.aclose()

