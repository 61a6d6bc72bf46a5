"""Child plans: ``step.run_plan`` starts an instance of one of the agent's own plans,
waits for it durably, and gets its output or ``StepFailed``."""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

CHILD = '''
"""Double a number after a nap."""

async def run(event, step):
    await step.sleep("nap", "1 hour")
    if event.payload["n"] < 0:
        raise ValueError("negative input")
    return event.payload["n"] * 2
'''

PARENT = '''
"""Double two numbers with child plans."""

async def run(event, step):
    first = await step.run_plan("double", {"n": event.payload["a"]})
    try:
        second = await step.run_plan("double", {"n": event.payload["b"]})
    except StepFailed as failed:
        return {"first": first, "failed": failed.cause, "message": failed.message}
    return {"first": first, "second": second}
'''


async def setup(engine: ad.Engine) -> ad.AgentScope:
    agent = engine.agent("math")
    await agent.register_plan("double", CHILD)
    await agent.register_plan("parent", PARENT)
    return agent


async def test_a_parent_gets_its_childrens_outputs(engine: ad.Engine, clock: FakeClock) -> None:
    agent = await setup(engine)
    parent = await agent.create("parent", {"a": 2, "b": 5}, id="p")
    await clock.advance("1 hour")
    await clock.advance("1 hour")
    status = await parent.wait(timeout=10)
    assert status.output == {"first": 4, "second": 10}
    steps = (await parent.history()).steps
    assert [(s.kind, s.name, s.occurrence, s.state) for s in steps] == [
        ("child", "double", 1, "done"), ("child", "double", 2, "done")]
    children = [s for s in (await agent.list(plan="double")).items]
    assert len(children) == 2 and all(c.status == "complete" for c in children)


async def test_a_child_that_fails_raises_step_failed(engine: ad.Engine,
                                                     clock: FakeClock) -> None:
    agent = await setup(engine)
    parent = await agent.create("parent", {"a": 1, "b": -1}, id="p")
    await clock.advance("1 hour")
    await clock.advance("1 hour")
    status = await parent.wait(timeout=10)
    assert status.output["first"] == 2
    assert status.output["failed"] == "ValueError"
    assert "negative input" in status.output["message"]


async def test_terminating_a_parent_terminates_its_sleeping_child(
        engine: ad.Engine, clock: FakeClock) -> None:
    agent = await setup(engine)
    await agent.register_plan("keeper", '''
async def run(event, step):
    kept = step.run_plan("double", {"n": 1}, id="kept", on_parent_end="keep")
    ended = step.run_plan("double", {"n": 2}, id="ended")
    return await step.gather(kept, ended)
''')
    parent = await agent.create("keeper", id="p")
    await clock.advance("1 minute")
    kept, ended = await agent.get("kept"), await agent.get("ended")
    assert (await ended.status()).status == "waiting"  # asleep in "nap"
    await parent.terminate()
    assert (await ended.status()).status == "terminated"
    audit = (await ended.history()).audit
    assert [(a.action, a.detail.get("by_parent")) for a in audit] == [("terminate", "p")]
    await clock.advance("1 hour")
    assert (await kept.wait(timeout=10)).output == 2  # outlives its parent
    assert (await parent.status()).status == "terminated"


async def test_event_types_of_the_engine_are_reserved(engine: ad.Engine) -> None:
    agent = await setup(engine)
    parent = await agent.create("parent", {"a": 1, "b": 1}, id="p")
    with pytest.raises(ad.UsageError, match="engine's own"):
        await parent.send_event("agents_durable.child_ended", {"id": "x"})


async def test_a_literal_child_plan_name_must_exist(engine: ad.Engine) -> None:
    agent = engine.agent("math")
    with pytest.raises(ad.PlanRejected) as rejected:
        await agent.register_plan("parent", PARENT)
    found = rejected.value.diagnostics
    assert [(d.code, d.line) for d in found] == [("ADP415", 5), ("ADP415", 7)]
    assert "'double'" in found[0].message
    await agent.register_plan("double", CHILD)
    assert (await agent.register_plan("parent", PARENT)).version == 1
    # a plan may start children of itself
    recursive = '''
async def run(event, step):
    n = event.payload["n"]
    if n == 0:
        return 0
    return 1 + await step.run_plan("countdown", {"n": n - 1})
'''
    await agent.register_plan("countdown", recursive)
    status = await (await agent.create("countdown", {"n": 3}, id="c")).wait(timeout=10)
    assert status.output == 3


async def test_an_unknown_plan_name_computed_at_run_time_fails_the_instance(
        engine: ad.Engine) -> None:
    agent = engine.agent("math")
    await agent.register_plan("dynamic", '''
async def run(event, step):
    return await step.run_plan(event.payload["plan"])
''')
    status = await (await agent.create("dynamic", {"plan": "nope"})).wait(timeout=10)
    assert status.status == "errored" and status.error is not None
    assert "no plan named 'nope'" in status.error.message
