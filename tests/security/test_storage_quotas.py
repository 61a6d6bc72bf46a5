"""Sandbox round two, class 6: storage has a bound per instance and per agent.

Per-step caps do not bound an instance: many 1 MiB results, many activations of capped
logs, or thousands of distinct event waits add up. Each quota fails only the instance that
exceeds it, with ``LimitExceeded`` naming the quota.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio


async def _engine(tmp_path: Path, clock: FakeClock, **limits: int) -> ad.Engine:
    return ad.Engine.open(tmp_path / "q.db", clock=clock, limits=ad.Limits(**limits))


BIG_RESULTS = '''
async def run(event, step):
    for i in range(event.payload["n"]):
        await step.do(f"chunk {i}", lambda: "x" * 50_000)
    return "stored"
'''


async def test_journal_quota_fails_the_instance(tmp_path: Path) -> None:
    clock = FakeClock()
    async with await _engine(tmp_path, clock, max_journal_bytes=300_000) as engine:
        agent = engine.agent("a")
        await agent.register_plan("p", BIG_RESULTS)
        over = await (await agent.create("p", {"n": 10})).wait(timeout=20)
        assert over.status == "errored" and over.error.name == "LimitExceeded"
        assert "max_journal_bytes" in over.error.message
        history = await (await agent.get(over.id)).history()
        assert len(history.steps) < 7  # stopped at the quota, nothing written past it
        under = await (await agent.create("p", {"n": 4})).wait(timeout=20)  # benign twin
        assert (under.status, under.output) == ("complete", "stored")


async def test_log_quota_counts_every_activation(tmp_path: Path) -> None:
    source = '''
async def run(event, step):
    for day in range(5):
        for i in range(event.payload["lines"]):
            print("day", day, "line", i)
        await step.sleep(f"day {day}", "1 day")
    return "done"
'''
    clock = FakeClock()
    async with await _engine(tmp_path, clock, max_log_lines=100) as engine:
        agent = engine.agent("a")
        await agent.register_plan("p", source)
        chatty = await agent.create("p", {"lines": 30})
        quiet = await agent.create("p", {"lines": 5})
        await clock.advance("5 days")
        over = await chatty.wait(timeout=20)
        assert over.status == "errored" and over.error.name == "LimitExceeded"
        assert "max_log_lines" in over.error.message
        assert len((await chatty.history()).logs) <= 100
        fine = await quiet.wait(timeout=20)
        assert (fine.status, fine.output) == ("complete", "done")


async def test_distinct_waits_have_a_quota(tmp_path: Path) -> None:
    source = '''
async def run(event, step):
    for i in range(event.payload["n"]):
        try:
            await step.wait_for_event(f"wait {i}", type=f"kind-{i}", timeout="1 second")
        except EventTimeout:
            pass
    return "waited"
'''
    clock = FakeClock()
    async with await _engine(tmp_path, clock, max_waits=5) as engine:
        agent = engine.agent("a")
        await agent.register_plan("p", source)
        over = await agent.create("p", {"n": 8})
        under = await agent.create("p", {"n": 5})
        for _ in range(10):
            await clock.advance("1 second")
        final = await over.wait(timeout=20)
        assert final.status == "errored" and "max_waits" in final.error.message
        assert (await under.wait(timeout=20)).status == "complete"


async def test_event_types_are_bounded_in_waits(engine) -> None:
    agent = engine.agent("a")
    await agent.register_plan("p", '''
async def run(event, step):
    await step.wait_for_event("w", type="t" * 100_000, timeout="1 day")
''')
    final = await (await agent.create("p")).wait(timeout=20)
    assert final.status == "errored" and final.error.name == "PlanRuntimeError"
    assert "at most 200 characters" in final.error.message


async def test_agent_storage_quota_spares_other_agents(tmp_path: Path) -> None:
    source = '''
async def run(event, step):
    return len(await step.do("blob", lambda: "y" * 40_000))
'''
    clock = FakeClock()
    async with await _engine(tmp_path, clock, max_agent_bytes=100_000) as engine:
        greedy, other = engine.agent("greedy"), engine.agent("other")
        for agent in (greedy, other):
            await agent.register_plan("p", source)
        results = [await (await greedy.create("p")).wait(timeout=20) for _ in range(4)]
        assert [r.status for r in results[:2]] == ["complete", "complete"]
        failed = [r for r in results if r.status == "errored"]
        assert failed and all("max_agent_bytes" in r.error.message for r in failed)
        assert (await (await other.create("p")).wait(timeout=20)).status == "complete"
