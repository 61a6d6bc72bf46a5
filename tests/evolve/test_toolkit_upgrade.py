"""The toolkit's upgrade_instances: an agent fixes its own running instances."""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.agents import PlanToolkit, ToolFailure, UpgradesDone
from agents_durable.testing import FakeClock
from tests.evolve.test_upgrade import V1, V2_FIXED, V2_RENAMED

pytestmark = pytest.mark.anyio


async def test_an_agent_upgrades_its_running_instances(engine: ad.Engine,
                                                       clock: FakeClock) -> None:
    toolkit = PlanToolkit(engine, "shop")
    assert (await toolkit.submit_plan("order", V1)).ok
    assert (await toolkit.start_plan("order", id="o1")).ok
    await clock.advance("1 minute")

    assert (await toolkit.submit_plan("order", V2_RENAMED)).ok
    checked = await toolkit.upgrade_instances("order", dry_run=True)
    assert isinstance(checked, UpgradesDone)
    assert checked.upgraded == [] and checked.version == 2
    [refusal] = checked.refused
    assert (refusal.instance_id, refusal.recorded, refusal.requested, refusal.line) == (
        "o1", "do 'load order'", "do 'fetch order'", 5)

    assert (await toolkit.submit_plan("order", V2_FIXED)).ok
    dry = await toolkit.upgrade_instances("order", dry_run=True)
    assert isinstance(dry, UpgradesDone) and dry.upgraded == ["o1"]
    assert (await engine.agent("shop").get("o1")).id == "o1"
    assert (await (await engine.agent("shop").get("o1")).status()).version == 1

    done = await toolkit.upgrade_instances("order", instance_ids=["o1"])
    assert isinstance(done, UpgradesDone)
    assert (done.upgraded, done.refused, done.version) == (["o1"], [], 3)
    assert (await toolkit.send_plan_event("o1", "approved")).ok
    status = await toolkit.plan_status("o1", wait_seconds=10)
    assert status.ok and status.output == 35  # type: ignore[union-attr]


async def test_upgrade_instances_failures_are_data(engine: ad.Engine) -> None:
    toolkit = PlanToolkit(engine, "shop")
    missing = await toolkit.upgrade_instances("nope")
    assert isinstance(missing, ToolFailure) and missing.error == "plan_not_found"
    assert (await toolkit.submit_plan("order", V1)).ok
    unknown = await toolkit.upgrade_instances("order", instance_ids=["ghost"])
    assert isinstance(unknown, ToolFailure) and unknown.error == "not_found"
