"""Verified upgrades: a running instance moves to a new plan version only when that
version replays its journal exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

V1 = '''
"""Order total, v1 (bug: forgets the shipping)."""

async def run(event, step):
    order = await step.do("load order", lambda: {"items": 30, "shipping": 5})
    await step.wait_for_event("approval", type="approved", timeout="7 days")
    total = await step.do("total", lambda: order["items"])
    return total
'''

# the fix: changes code after the recorded steps, and adds a step
V2_FIXED = '''
"""Order total, v2."""

async def run(event, step):
    order = await step.do("load order", lambda: {"items": 30, "shipping": 5})
    await step.wait_for_event("approval", type="approved", timeout="7 days")
    total = await step.do("total", lambda: order["items"] + order["shipping"])
    await step.do("notify", lambda: "sent")
    return total
'''

# renames a step the journal recorded
V2_RENAMED = '''
"""Order total, renamed."""

async def run(event, step):
    order = await step.do("fetch order", lambda: {"items": 30, "shipping": 5})
    await step.wait_for_event("approval", type="approved", timeout="7 days")
    return order["items"] + order["shipping"]
'''

# returns before a recorded step
V2_SHORTER = '''
"""Order total, shorter."""

async def run(event, step):
    return 1
'''


async def waiting_instance(engine: ad.Engine, clock: FakeClock, id: str = "o1") -> ad.Instance:
    agent = engine.agent("shop")
    await agent.register_plan("order", V1)
    instance = await agent.create("order", id=id)
    await clock.advance("1 minute")
    status = await instance.status()
    assert status.status == "waiting", status
    return instance


async def test_compatible_upgrade_finishes_on_the_new_code(engine: ad.Engine,
                                                           clock: FakeClock) -> None:
    instance = await waiting_instance(engine, clock)
    agent = engine.agent("shop")
    v2 = await agent.register_plan("order", V2_FIXED)

    [check] = await agent.verify_upgrade([instance], to=v2)
    assert check.compatible and check.divergence is None
    assert (check.from_version, check.to_version, check.replayed) == (1, 2, 2)
    assert (await instance.status()).version == 1  # verifying changed nothing

    applied = await instance.upgrade(to=v2)
    assert applied.compatible
    status = await instance.status()
    assert (status.version, status.plan_hash, status.status) == (2, v2.hash, "waiting")

    await instance.send_event("approved")
    done = await instance.wait(timeout=10)
    assert done.status == "complete" and done.output == 35
    history = await instance.history()
    assert [s.name for s in history.steps] == ["load order", "approval", "total", "notify"]
    [entry] = [a for a in history.audit if a.action == "upgrade"]
    assert entry.was == "waiting"
    assert entry.detail["from_plan"]["version"] == 1
    assert entry.detail["to_plan"] == {"name": "order", "version": 2, "hash": v2.hash}


async def test_renaming_a_recorded_step_is_refused_with_the_divergence(
        engine: ad.Engine, clock: FakeClock) -> None:
    instance = await waiting_instance(engine, clock)
    agent = engine.agent("shop")
    renamed = await agent.register_plan("order", V2_RENAMED)

    [check] = await agent.verify_upgrade("o1", to=renamed.version)
    assert not check.compatible
    divergence = check.divergence
    assert divergence is not None
    assert divergence.recorded == ad.StepRef(kind="do", name="load order", occurrence=1)
    assert divergence.requested == ad.StepRef(kind="do", name="fetch order", occurrence=1)
    assert divergence.line == 5 and divergence.source is not None
    assert "fetch order" in divergence.source

    with pytest.raises(ad.UpgradeRefused, match="'fetch order'") as refused:
        await instance.upgrade(to=renamed)
    assert refused.value.checks == [check]
    status = await instance.status()
    assert status.version == 1  # untouched
    assert not [a for a in (await instance.history()).audit if a.action == "upgrade"]
    await instance.send_event("approved")
    assert (await instance.wait(timeout=10)).output == 30  # still the old code


async def test_a_version_that_skips_recorded_steps_is_refused(engine: ad.Engine,
                                                              clock: FakeClock) -> None:
    await waiting_instance(engine, clock)
    agent = engine.agent("shop")
    shorter = await agent.register_plan("order", V2_SHORTER)
    [check] = await agent.verify_upgrade(["o1"], to=shorter)
    assert not check.compatible and check.divergence is not None
    assert check.divergence.recorded == ad.StepRef(kind="do", name="load order", occurrence=1)
    assert check.divergence.requested is None
    assert "returned without asking for it" in check.divergence.message


async def test_verification_calls_no_tool(engine: ad.Engine, clock: FakeClock) -> None:
    calls: list[str] = []

    def charge(amount: int) -> str:
        calls.append(f"charge {amount}")
        return "ok"

    engine.tools.register("charge", charge)
    agent = engine.agent("shop", tools=["charge"])
    source = '''
async def run(event, step):
    await step.do("charge", lambda: tools.charge(amount=1))
    await step.sleep("cool off", "1 day")
    return "v{}"
'''
    await agent.register_plan("pay", source.replace("{}", "1"))
    instance = await agent.create("pay", id="p1")
    await clock.advance("1 minute")
    assert calls == ["charge 1"]
    changed = '''
async def run(event, step):
    await step.do("charge", lambda: tools.charge(amount=2))
    await step.do("charge again", lambda: tools.charge(amount=3))
    await step.sleep("cool off", "1 day")
    return "v2"
'''
    v2 = await agent.register_plan("pay", changed)
    [check] = await agent.verify_upgrade(instance, to=v2)
    assert not check.compatible  # asks for a new step where the journal has the sleep
    assert check.divergence is not None and check.divergence.requested == ad.StepRef(
        kind="do", name="charge again", occurrence=1)
    assert calls == ["charge 1"]  # the replay ran no callback, new or recorded


async def test_bulk_upgrade_moves_the_compatible_and_reports_the_rest(
        engine: ad.Engine, clock: FakeClock) -> None:
    agent = engine.agent("shop")
    await agent.register_plan("order", V1)
    early = await agent.create("order", id="early")
    await clock.advance("1 minute")
    # `late` has not run yet: an empty journal replays on any version
    fixed = await agent.register_plan("order", V2_FIXED)
    report = await agent.upgrade_all("order", to=fixed)
    assert sorted(report.upgraded) == ["early"] and report.refused == []
    assert (await early.status()).version == 2

    renamed = await agent.register_plan("order", V2_RENAMED)
    fresh = await agent.create("order", id="fresh")  # queued, nothing recorded
    report = await agent.upgrade_all("order", to=renamed)
    assert report.upgraded == ["fresh"]
    assert [c.id for c in report.refused] == ["early"]
    assert report.refused[0].divergence is not None
    assert (await fresh.status()).version == 3
    assert (await early.status()).version == 2


async def test_a_finished_instance_cannot_be_upgraded(engine: ad.Engine,
                                                      clock: FakeClock) -> None:
    instance = await waiting_instance(engine, clock)
    await instance.terminate()
    agent = engine.agent("shop")
    v2 = await agent.register_plan("order", V2_FIXED)
    with pytest.raises(ad.InstanceNotActive):
        await instance.upgrade(to=v2)
    other = engine.agent("other")
    await other.register_plan("order", V2_FIXED)
    with pytest.raises(ad.InstanceNotFound):
        await other.verify_upgrade(["o1"])


async def test_upgrade_to_another_plan_name_is_a_usage_error(engine: ad.Engine,
                                                             clock: FakeClock) -> None:
    instance = await waiting_instance(engine, clock)
    agent = engine.agent("shop")
    other = await agent.register_plan("refund", V2_FIXED)
    with pytest.raises(ad.UsageError, match="fork it instead"):
        await instance.upgrade(to=other)


async def test_upgrade_survives_a_restart_of_the_engine(db: str | Path,
                                                        clock: FakeClock) -> None:
    path = db
    async with ad.Engine.open(path, clock=clock) as engine:
        instance = await waiting_instance(engine, clock)
        v2 = await engine.agent("shop").register_plan("order", V2_FIXED)
        await instance.upgrade(to=v2)
    async with ad.Engine.open(path, clock=clock) as engine:
        instance = await engine.agent("shop").get("o1")
        await instance.send_event("approved")
        assert (await instance.wait(timeout=10)).output == 35
