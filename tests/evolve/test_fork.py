"""Forks: a new instance starts from a copy of another's journal prefix, optionally on an
edited plan that must replay that prefix exactly; the original is untouched."""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

REPORT = '''
"""Research report."""

async def run(event, step):
    sources = await step.do("gather sources", lambda: ["a", "b"])
    draft = await step.do("draft", lambda: "draft of " + "+".join(sources))
    return {"sources": sources, "report": draft}
'''

REPORT_EDITED = '''
"""Research report, with a better draft step."""

async def run(event, step):
    sources = await step.do("gather sources", lambda: ["x"])
    draft = await step.do("draft", lambda: "DRAFT of " + "+".join(sources))
    await step.do("review", lambda: "reviewed")
    return {"sources": sources, "report": draft}
'''

REPORT_BROKEN = '''
"""Research report that no longer gathers sources."""

async def run(event, step):
    draft = await step.do("draft", lambda: "a draft")
    return {"report": draft}
'''


async def finished(engine: ad.Engine) -> ad.Instance:
    agent = engine.agent("writer")
    await agent.register_plan("report", REPORT)
    instance = await agent.create("report", {"topic": "tides"}, id="r1")
    status = await instance.wait(timeout=10)
    assert status.output == {"sources": ["a", "b"], "report": "draft of a+b"}
    return instance


async def test_fork_on_an_edited_plan_reruns_from_the_step(engine: ad.Engine) -> None:
    original = await finished(engine)
    agent = engine.agent("writer")
    edited = await agent.register_plan("report", REPORT_EDITED)

    fork = await original.fork(from_step="draft", plan=edited, id="r1-edited")
    status = await fork.wait(timeout=10)
    # the copied step keeps its recorded result; the step forked from runs on the new code
    assert status.output == {"sources": ["a", "b"], "report": "DRAFT of a+b"}
    assert (status.version, status.plan_hash) == (2, edited.hash)
    history = await fork.history()
    assert [s.name for s in history.steps] == ["gather sources", "draft", "review"]
    assert [(a.action, a.detail.get("from")) for a in history.audit] == [("forked", "r1")]

    untouched = await original.history()
    assert untouched.status.output == {"sources": ["a", "b"], "report": "draft of a+b"}
    assert [s.name for s in untouched.steps] == ["gather sources", "draft"]
    assert [(a.action, a.detail.get("to")) for a in untouched.audit] == [("fork", "r1-edited")]


async def test_fork_on_a_plan_that_does_not_replay_the_prefix_is_refused(
        engine: ad.Engine) -> None:
    original = await finished(engine)
    agent = engine.agent("writer")
    broken = await agent.register_plan("report", REPORT_BROKEN)
    with pytest.raises(ad.UpgradeRefused, match="'gather sources'") as refused:
        await original.fork(from_step="draft", plan=broken, id="r1-broken")
    [check] = refused.value.checks
    assert check.divergence is not None
    assert check.divergence.recorded == ad.StepRef(kind="do", name="gather sources",
                                                   occurrence=1)
    with pytest.raises(ad.InstanceNotFound):
        await agent.get("r1-broken")


async def test_fork_without_a_plan_copies_the_params_and_the_prefix(
        engine: ad.Engine, clock: FakeClock) -> None:
    agent = engine.agent("writer")
    await agent.register_plan("count", '''
async def run(event, step):
    first = await step.uuid()
    await step.sleep("pause", "1 hour")
    second = await step.uuid()
    return [event.payload["n"], first, second]
''')
    original = await agent.create("count", {"n": 3}, id="c1")
    await clock.advance("2 hours")
    done = await original.wait(timeout=10)
    fork = await original.fork(("uuid", 2))
    again = await fork.wait(timeout=10)
    assert again.output[:2] == done.output[:2]  # params and the copied uuid
    assert again.output[2] != done.output[2]  # the forked-from step ran again
    with pytest.raises(ad.UsageError, match="no recorded step"):
        await original.fork("nope")
    with pytest.raises(ad.InstanceExists):
        await original.fork("pause", id=fork.id)


async def test_a_fork_never_copies_a_wait_for_a_child(engine: ad.Engine,
                                                      clock: FakeClock) -> None:
    agent = engine.agent("writer")
    await agent.register_plan("nap", '''
async def run(event, step):
    await step.sleep("nap", "1 hour")
    return "rested"
''')
    await agent.register_plan("parent", '''
async def run(event, step):
    first = await step.do("first", lambda: 1)
    rested = await step.run_plan("nap")
    return [first, rested]
''')
    parent = await agent.create("parent", id="p")
    await clock.advance("1 minute")
    with pytest.raises(ad.UsageError, match="still waits for its child"):
        await parent.fork()
    fork = await parent.fork("nap", id="p2")  # from the child step: it starts its own
    await clock.advance("1 hour")
    assert (await fork.wait(timeout=10)).output == [1, "rested"]
    assert (await parent.wait(timeout=10)).output == [1, "rested"]
