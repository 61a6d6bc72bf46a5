"""Every plan in the gallery validates clean and runs end to end with the fake clock."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

PLANS = Path(__file__).resolve().parent.parent / "plans"
sys.path.insert(0, str(PLANS))

import gallery_tools  # noqa: E402
from scenarios import PLAN_FILES, PLAN_TOOLS, SCENARIOS  # noqa: E402

pytestmark = pytest.mark.anyio


def test_gallery_has_the_required_plans() -> None:
    required = {"order_followup.py", "human_approval.py", "retry_with_backoff.py",
                "fan_out.py", "daily_digest.py", "escalation_chain.py", "data_pipeline.py",
                "research_loop.py"}
    assert required <= set(PLAN_FILES)
    assert {s["plan"] for s in SCENARIOS} == set(PLAN_FILES)


@pytest.mark.parametrize("plan_file", PLAN_FILES)
def test_gallery_plan_validates_clean(plan_file: str) -> None:
    source = (PLANS / plan_file).read_text()
    diagnostics = ad.validate_plan(source, tools=PLAN_TOOLS[plan_file])
    assert diagnostics == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
async def test_gallery_scenario(tmp_path: Path, scenario: dict[str, Any]) -> None:
    gallery_tools.reset()
    clock = FakeClock()
    async with ad.Engine.open(tmp_path / "gallery.db", clock=clock) as engine:
        gallery_tools.register_gallery_tools(engine.tools)
        agent = engine.agent("gallery", tools=PLAN_TOOLS[scenario["plan"]])
        await agent.register_plan(scenario["plan"], (PLANS / scenario["plan"]).read_text())
        instance = await agent.create(scenario["plan"], scenario["params"],
                                      id=scenario["name"])
        await clock.settle()
        for action in scenario["script"]:
            if action[0] == "advance":
                await clock.advance(action[1])
            else:
                await instance.send_event(action[1], action[2])
                await clock.settle()
        status = await instance.status()
        assert status.status == "complete", (status.error, status.steps[-3:])
        assert status.output == scenario["expected_output"]
        snapshot = gallery_tools.STATE.snapshot()
        for key, expected in scenario.get("expected_state", {}).items():
            assert snapshot[key] == expected, key
