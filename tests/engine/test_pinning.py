"""Pinning (SPEC 3): an instance runs the plan version it started with, whatever its agent
registers later, also across an engine restart."""

from __future__ import annotations

from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio


def versioned(tag: str) -> str:
    """A plan that records which version's code ran before and after a long sleep."""
    return f'''
"""Greeter {tag}."""

async def run(event, step):
    before = await step.do("before", lambda: "{tag}")
    await step.sleep("long wait", "3 days")
    after = await step.do("after", lambda: "{tag}")
    return [before, after]
'''


async def test_sleeping_instance_finishes_on_its_own_version(engine: ad.Engine,
                                                             clock: FakeClock) -> None:
    agent = engine.agent("agent-a")
    v1 = await agent.register_plan("greeter", versioned("v1"))
    old = await agent.create("greeter", id="old")
    await clock.advance("1 day")
    assert (await old.status()).status == "waiting"

    v2 = await agent.register_plan("greeter", versioned("v2"))
    assert (v1.version, v2.version) == (1, 2)
    assert v1.hash != v2.hash
    new = await agent.create("greeter", id="new")

    await clock.advance("3 days")
    old_status = await old.wait(timeout=10)
    new_status = await new.wait(timeout=10)
    assert old_status.output == ["v1", "v1"]
    assert (old_status.version, old_status.plan_hash) == (1, v1.hash)
    assert new_status.output == ["v2", "v2"]
    assert (new_status.version, new_status.plan_hash) == (2, v2.hash)


async def test_pinning_survives_an_engine_restart(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "pinned.db"
    async with ad.Engine.open(path, clock=clock) as engine:
        agent = engine.agent("agent-a")
        v1 = await agent.register_plan("greeter", versioned("v1"))
        await agent.create("greeter", id="old")
        await clock.advance("1 day")
    async with ad.Engine.open(path, clock=clock) as engine:
        agent = engine.agent("agent-a")
        v2 = await agent.register_plan("greeter", versioned("v2"))
        assert v2.version == 2
        await clock.advance("3 days")
        status = await (await agent.get("old")).wait(timeout=10)
    assert status.output == ["v1", "v1"]
    assert status.plan_hash == v1.hash


async def test_identical_source_registers_once(engine: ad.Engine) -> None:
    agent = engine.agent("agent-a")
    first = await agent.register_plan("greeter", versioned("v1"))
    again = await agent.register_plan("greeter", versioned("v1"))
    assert again == first
    assert [v.version for v in await agent.list_plans("greeter")] == [1]
    changed = await agent.register_plan("greeter", versioned("v1") + "\n# a comment\n")
    assert changed.version == 2
    # re-submitting the first source returns version 1; the latest stays version 2
    assert await agent.register_plan("greeter", versioned("v1")) == first
    assert (await agent.get_plan("greeter")).version == 2
    assert [v.version for v in await agent.list_plans("greeter")] == [1, 2]


async def test_create_by_hash_or_version_object_runs_that_version(
        engine: ad.Engine, clock: FakeClock) -> None:
    agent = engine.agent("agent-a")
    v1 = await agent.register_plan("greeter", versioned("v1"))
    v2 = await agent.register_plan("greeter", versioned("v2"))
    by_hash = await agent.create(v1.hash, id="by-hash")
    by_object = await agent.create(v1, id="by-object")
    by_name = await agent.create("greeter", id="by-name")
    by_batch = (await agent.create_batch([{"plan": v1.hash, "id": "by-batch"}]))[0]
    await clock.advance("4 days")
    for handle in (by_hash, by_object, by_batch):
        status = await handle.wait(timeout=10)
        assert status.output == ["v1", "v1"]
        assert (status.plan, status.version, status.plan_hash) == ("greeter", 1, v1.hash)
    latest = await by_name.wait(timeout=10)
    assert (latest.output, latest.version) == (["v2", "v2"], 2)
    assert (await agent.get_plan("greeter", version=1)).hash == v1.hash
    assert (await agent.get_plan(hash=v2.hash)).version == 2


async def test_unknown_plan_name_hash_and_version(engine: ad.Engine) -> None:
    agent = engine.agent("agent-a")
    await agent.register_plan("greeter", versioned("v1"))
    with pytest.raises(ad.PlanNotFound):
        await agent.create("no-such-plan")
    with pytest.raises(ad.PlanNotFound):
        await agent.create("f" * 64)
    with pytest.raises(ad.PlanNotFound):
        await agent.get_plan("greeter", version=2)


async def test_version_outline_and_description(engine: ad.Engine) -> None:
    agent = engine.agent("agent-a")
    version = await agent.register_plan("greeter", versioned("v1"))
    assert version.description == "Greeter v1."
    assert [(entry.kind, entry.name) for entry in version.outline] == [
        ("do", "before"), ("sleep", "long wait"), ("do", "after")]
    assert version.source == versioned("v1")
    assert version.agent_id == "agent-a" and version.name == "greeter"
