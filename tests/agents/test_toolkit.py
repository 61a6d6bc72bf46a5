"""PlanToolkit called directly: results, failures as data, and tenancy."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

import agents_durable as ad
from agents_durable.agents import (
    InstanceListing,
    InstanceView,
    PlanListing,
    PlanSubmitted,
    PlanToolkit,
    ToolFailure,
)
from agents_durable.agents._results import ToolResult
from tests.agents import scenario

pytestmark = pytest.mark.anyio

# A string that appears only in agent A's plan source, to prove it never leaks.
SECRET_MARKER = "a-private-detail-of-agent-a"
A_PLAN = scenario.FIXED_PLAN.replace("Greet a guest", f"Greet a guest ({SECRET_MARKER})")


@pytest.fixture
async def toolkit(engine: ad.Engine) -> PlanToolkit:
    engine.tools.register(scenario.TOOL_NAME, scenario.compose_greeting)
    return PlanToolkit(engine, scenario.AGENT_ID, tools=[scenario.TOOL_NAME])


async def run_to_completion(toolkit: PlanToolkit, source: str = scenario.FIXED_PLAN,
                            id: str = scenario.INSTANCE_ID) -> InstanceView:
    assert (await toolkit.submit_plan(scenario.PLAN_NAME, source)).ok
    assert (await toolkit.start_plan(scenario.PLAN_NAME, scenario.PARAMS, id=id)).ok
    assert (await toolkit.send_plan_event(id, scenario.EVENT_TYPE, scenario.EVENT_PAYLOAD)).ok
    status = await toolkit.plan_status(id, wait_seconds=20)
    assert isinstance(status, InstanceView)
    return status


async def test_check_plan_returns_diagnostics_then_outline(toolkit: PlanToolkit) -> None:
    flawed = await toolkit.check_plan(scenario.FLAWED_PLAN)
    assert isinstance(flawed, ToolFailure)
    assert flawed.error == "invalid_plan"
    assert [(d.code, d.line) for d in flawed.diagnostics] == [("ADP201", 3)]
    assert "step.now()" in flawed.diagnostics[0].hint

    fixed = await toolkit.check_plan(scenario.FIXED_PLAN)
    assert fixed.ok
    assert fixed.description == "Greet a guest by name as soon as they arrive."
    assert [(e.kind, e.name) for e in fixed.outline] == [
        ("wait_for_event", "guest arrives"), ("do", "compose greeting")]
    assert await toolkit.list_plans() == PlanListing(plans=[])  # checking stores nothing


async def test_check_plan_reports_a_tool_that_is_not_granted(engine: ad.Engine) -> None:
    toolkit = PlanToolkit(engine, "no-tools")
    result = await toolkit.check_plan(scenario.FIXED_PLAN)
    assert isinstance(result, ToolFailure)
    assert "ADP406" in [d.code for d in result.diagnostics]


async def test_submit_versions_and_list_plans(toolkit: PlanToolkit) -> None:
    rejected = await toolkit.submit_plan(scenario.PLAN_NAME, scenario.FLAWED_PLAN)
    assert isinstance(rejected, ToolFailure)
    assert rejected.error == "invalid_plan"
    first = await toolkit.submit_plan(scenario.PLAN_NAME, scenario.FIXED_PLAN)
    again = await toolkit.submit_plan(scenario.PLAN_NAME, scenario.FIXED_PLAN)
    second = await toolkit.submit_plan(scenario.PLAN_NAME, A_PLAN)
    assert isinstance(first, PlanSubmitted) and isinstance(again, PlanSubmitted)
    assert isinstance(second, PlanSubmitted)
    assert (first.version, again.version, second.version) == (1, 1, 2)
    listing = await toolkit.list_plans()
    assert isinstance(listing, PlanListing)
    assert [(p.name, p.latest_version, p.hash) for p in listing.plans] == [
        (scenario.PLAN_NAME, 2, second.hash)]


async def test_full_run_status_and_history(toolkit: PlanToolkit) -> None:
    status = await run_to_completion(toolkit)
    assert status.status == "complete"
    assert status.output == scenario.EXPECTED_OUTPUT
    assert [(s.name, s.state) for s in status.steps] == [
        ("guest arrives", "done"), ("compose greeting", "done")]

    history = await toolkit.plan_history(scenario.INSTANCE_ID)
    assert history.ok and history.status == "complete"
    assert history.steps[1].result == scenario.EXPECTED_OUTPUT["greeting"]
    assert [a.attempt for a in history.steps[1].attempts] == [1]
    assert [(e.type, e.payload, e.consumed) for e in history.events] == [
        (scenario.EVENT_TYPE, scenario.EVENT_PAYLOAD, True)]

    listing = await toolkit.list_instances(status="complete")
    assert isinstance(listing, InstanceListing)
    assert [i.instance_id for i in listing.instances] == [scenario.INSTANCE_ID]
    assert not listing.more
    assert await toolkit.list_instances(status="waiting") == InstanceListing(instances=[],
                                                                             more=False)


async def test_failures_are_results_with_codes(toolkit: PlanToolkit) -> None:
    missing_plan = await toolkit.start_plan("no-such-plan")
    assert isinstance(missing_plan, ToolFailure) and missing_plan.error == "plan_not_found"

    await run_to_completion(toolkit)
    duplicate = await toolkit.start_plan(scenario.PLAN_NAME, id=scenario.INSTANCE_ID)
    assert isinstance(duplicate, ToolFailure) and duplicate.error == "already_exists"
    finished = await toolkit.send_plan_event(scenario.INSTANCE_ID, "late", {})
    assert isinstance(finished, ToolFailure) and finished.error == "not_active"
    assert "complete" in finished.message

    bad_id = await toolkit.start_plan(scenario.PLAN_NAME, id="-starts-with-dash")
    assert isinstance(bad_id, ToolFailure) and bad_id.error == "invalid_argument"
    too_big = await toolkit.start_plan(scenario.PLAN_NAME, {"blob": "x" * (1024 * 1024)})
    assert isinstance(too_big, ToolFailure) and too_big.error == "limit_exceeded"
    unknown = await toolkit.plan_status("never-created")
    assert isinstance(unknown, ToolFailure) and unknown.error == "not_found"
    bad_status = await toolkit.list_instances(status="sleeping")
    assert isinstance(bad_status, ToolFailure) and bad_status.error == "invalid_argument"
    extra = await toolkit.call("plan_status", {"instance_id": "x", "verbose": True})
    assert isinstance(extra, ToolFailure) and "verbose" in extra.message
    no_tool = await toolkit.call("delete_everything", {})
    assert isinstance(no_tool, ToolFailure) and no_tool.error == "invalid_argument"


async def test_a_closed_engine_is_unavailable_not_a_traceback(tmp_path: Path) -> None:
    async with ad.Engine.open(tmp_path / "closed.db") as engine:
        toolkit = PlanToolkit(engine, "late")
    result = await toolkit.list_instances()
    assert isinstance(result, ToolFailure)
    assert result.error == "unavailable"
    assert str(tmp_path) not in result.message


async def test_another_agents_instance_looks_exactly_like_a_missing_one(
        engine: ad.Engine, toolkit: PlanToolkit) -> None:
    await run_to_completion(toolkit, source=A_PLAN, id="shared-name")
    other = PlanToolkit(engine, "agent-b", tools=[scenario.TOOL_NAME])

    def anonymous(result: Any, instance_id: str) -> dict[str, Any]:
        dump: dict[str, Any] = result.model_dump()
        dump["message"] = dump["message"].replace(instance_id, "<id>")
        return dump

    for ask in (lambda i: other.plan_status(i), lambda i: other.plan_history(i),
                lambda i: other.send_plan_event(i, scenario.EVENT_TYPE, {})):
        foreign, random = await ask("shared-name"), await ask("zz-never-created")
        assert isinstance(foreign, ToolFailure) and foreign.error == "not_found"
        assert anonymous(foreign, "shared-name") == anonymous(random, "zz-never-created")
    assert await other.list_instances() == InstanceListing(instances=[], more=False)
    assert await other.list_plans() == PlanListing(plans=[])
    missing = await other.start_plan(scenario.PLAN_NAME, id="shared-name")
    assert isinstance(missing, ToolFailure) and missing.error == "plan_not_found"
    # Agent B may use the same instance id for its own instance: ids are per agent.
    own = await run_to_completion(other, id="shared-name")
    assert own.output == scenario.EXPECTED_OUTPUT


def assert_documented(value: Any) -> None:
    """Every model in ``value`` dumps exactly its declared fields, recursively."""
    if isinstance(value, BaseModel):
        assert set(value.model_dump()) == set(type(value).model_fields), type(value)
        for name in type(value).model_fields:
            if name not in ("output", "result", "payload"):  # the plan's own JSON data
                assert_documented(getattr(value, name))
    elif isinstance(value, list):
        for item in value:
            assert_documented(item)


async def test_results_hold_only_documented_fields_and_no_internals(
        engine: ad.Engine, toolkit: PlanToolkit, tmp_path: Path) -> None:
    await run_to_completion(toolkit, source=A_PLAN)
    other = PlanToolkit(engine, "agent-b")
    results = [
        await toolkit.check_plan(A_PLAN), await toolkit.list_plans(),
        await toolkit.plan_status(scenario.INSTANCE_ID),
        await toolkit.plan_history(scenario.INSTANCE_ID), await toolkit.list_instances(),
        await toolkit.send_plan_event(scenario.INSTANCE_ID, "late"),
        await toolkit.submit_plan(scenario.PLAN_NAME, A_PLAN),
        await other.plan_status(scenario.INSTANCE_ID), await other.list_plans(),
        await other.plan_history(scenario.INSTANCE_ID), await other.list_instances(),
        await other.check_plan(A_PLAN),
    ]
    for result in results:
        assert isinstance(result, get_args(ToolResult))
        assert_documented(result)
        text = result.model_dump_json()
        assert A_PLAN not in text  # no result carries plan source, not even the owner's
        assert str(tmp_path) not in text
        assert "object at 0x" not in text and "Traceback" not in text
    for result in results[7:]:  # agent B's answers: nothing of agent A's
        assert SECRET_MARKER not in result.model_dump_json()
    for model in get_args(ToolResult):
        assert "pk" not in model.model_fields and "source" not in model.model_fields
