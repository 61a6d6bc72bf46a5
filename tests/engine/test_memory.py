"""An ended activation is freed at once, by reference counting.

Anything an activation leaves in a reference cycle waits for the garbage collector, whose
full scans of the heap were a fifth of the time a herd of 10,000 sleepers took to wake.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.engine._activation import Activation
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

PLANS = {
    "sleep and wake": '''
async def run(event, step):
    await step.sleep("nap", "1 hour")
    return await step.do("after", lambda: 1)
''',
    "gather of helpers": '''
async def fetch(step, k):
    first = await step.do(f"a {k}", lambda: k)
    return await step.do(f"b {k}", lambda: first + 1)

async def run(event, step):
    await step.sleep("nap", "1 hour")
    return await step.gather(*[fetch(step, k) for k in range(3)])
''',
    "a failing step": '''
async def run(event, step):
    await step.sleep("nap", "1 hour")
    def boom():
        raise ValueError("no")
    try:
        await step.do("boom", boom, retries={"limit": 0})
    except Exception as error:
        return str(error)
''',
    "an event wait that times out": '''
async def run(event, step):
    try:
        await step.wait_for_event("approval", type="approve", timeout="1 hour")
    except Exception:
        return "timed out"
''',
}


@pytest.mark.parametrize("plan", list(PLANS))
async def test_an_ended_activation_leaves_nothing_for_the_cycle_collector(
        plan: str, tmp_path: Path, clock: FakeClock) -> None:
    async with ad.Engine.open(tmp_path / "m.db", clock=clock) as engine:
        agent = engine.agent("agent-a")
        await agent.register_plan("plan", PLANS[plan])
        instance = await agent.create("plan", id="i1")
        await engine.settle()  # the first activation ran: no cycles of it are freed yet
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            await clock.advance("2 hours")
            status = await instance.wait(timeout=10)
            gc.collect()
            garbage = list(gc.garbage)
        finally:
            gc.garbage.clear()
            gc.set_debug(0)
    assert status.status == "complete", status
    activations = [o for o in garbage if isinstance(o, Activation)]
    modules = [o for o in garbage if isinstance(o, dict) and "run" in o and "_getattr_" in o]
    assert activations == [], f"{len(activations)} activation(s) were left in a cycle"
    assert modules == [], f"{len(modules)} plan module(s) were left in a cycle"
