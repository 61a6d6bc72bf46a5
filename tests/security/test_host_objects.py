"""Category 7, host objects: everything reachable from ``event``, ``step``, ``tools``,
tool results, engine errors and the print collector. Only JSON data and facades cross,
and facades expose an attribute allow-list.
"""

from __future__ import annotations

from typing import Any

import pytest

import agents_durable as ad
from tests.security.conftest import assert_output, assert_rejected, assert_stopped, run

pytestmark = pytest.mark.anyio


def _plan(body: str) -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"async def run(event, step):\n{lines}\n"


@pytest.mark.parametrize("attribute", ["cr_frame", "gi_frame", "send", "throw", "close",
                                       "__await__", "cr_code", "_activation", "_args"])
async def test_unawaited_step_call_exposes_nothing(engine: ad.Engine, unvalidated: None,
                                                   attribute: str) -> None:
    source = _plan(f'c = step.do("x", lambda: 1)\nreturn str(getattr(c, "{attribute}"))')
    await assert_stopped(engine, source, "PlanAccessError")


def test_unawaited_step_call_is_rejected_by_validation() -> None:
    assert_rejected(_plan('c = step.do("x", lambda: 1)\nreturn str(c.send)'), "ADP401")


@pytest.mark.parametrize(("target", "attribute"), [
    ("event", "__slots__"), ("event", "__class__"), ("step", "_activation"),
    ("step", "__init__"), ("tools", "_binding"), ("tools", "_prefix"),
    ("print", "lines"), ("print", "enabled"), ("list", "real"),
])
async def test_facade_internals_are_closed(engine: ad.Engine, unvalidated: None,
                                           target: str, attribute: str) -> None:
    source = _plan(f'return str(getattr({target}, "{attribute}"))')
    await assert_stopped(engine, source, "PlanAccessError")


@pytest.mark.parametrize("target", ["event", "step", "tools", "print", "step.now()",
                                    "len", "math"])
async def test_type_of_engine_objects_is_closed(engine: ad.Engine, unvalidated: None,
                                                target: str) -> None:
    source = f"import math\n{_plan(f'return str(type({target}))')}"
    await assert_stopped(engine, source, "PlanAccessError")


async def test_facades_cannot_be_written(engine: ad.Engine, unvalidated: None) -> None:
    await assert_stopped(engine, _plan('event.agent_id = "victim"\nreturn 1'),
                         "PlanAccessError")


async def test_facades_cannot_be_indexed_or_iterated(engine: ad.Engine,
                                                     unvalidated: None) -> None:
    await assert_stopped(engine, _plan("return [x for x in step]"), "PlanAccessError")
    await assert_stopped(engine, _plan('return str(tools["x"])'), "PlanAccessError")


async def test_step_context_owner_is_closed(engine: ad.Engine, unvalidated: None) -> None:
    source = _plan('def cb(ctx):\n    return str(getattr(ctx, "owner"))\n'
                   'return await step.do("x", cb, retries={"limit": 0})')
    status = await assert_stopped(engine, source, "StepFailed")
    assert "PlanAccessError" in status.error.message


async def test_tool_results_are_json_copies(engine: ad.Engine) -> None:
    shared: dict[str, Any] = {"items": [1, 2]}
    engine.tools.register("shared.get", lambda: shared)
    source = _plan('data = await step.do("get", lambda: tools.shared.get())\n'
                   'data["items"].append(3)\nreturn data')
    await assert_output(engine, source, {"items": [1, 2, 3]}, tools=("shared.get",))
    assert shared == {"items": [1, 2]}


async def test_tool_results_that_are_host_objects_fail_the_step(engine: ad.Engine) -> None:
    engine.tools.register("leak", lambda: {"engine": engine})
    source = _plan('return await step.do("leak", lambda: tools.leak(), '
                   'retries={"limit": 0})')
    status = await assert_stopped(engine, source, "StepFailed", tools=("leak",))
    assert "JSON" in status.error.message


async def test_tools_outside_a_step_are_refused(engine: ad.Engine, unvalidated: None) -> None:
    engine.tools.register("echo", lambda x=None: x)
    await assert_stopped(engine, _plan("return await tools.echo(1)"), "ToolUsageError",
                         tools=("echo",))


async def test_ungranted_tools_are_invisible(engine: ad.Engine, unvalidated: None) -> None:
    wiped: list[int] = []
    engine.tools.register("admin.wipe", lambda: wiped.append(1))
    # named in the source: the worker does not claim it (it lacks the grant) at all
    agent = engine.agent("agent-a")
    await agent.register_plan("named", _plan(
        'return await step.do("w", lambda: tools.admin.wipe(), retries={"limit": 0})'))
    left = await agent.create("named")
    await engine.clock.settle()  # type: ignore[attr-defined]
    assert (await left.status()).status == "queued"
    # reached dynamically (the source does not name it): refused when called
    source = _plan('return await step.do("w", lambda: getattr(tools, "admin").wipe(), '
                   'retries={"limit": 0})')
    status = await run(engine, source)
    assert status.status == "errored"
    assert "not granted" in status.error.message
    assert wiped == []


async def test_benign_event_and_step_context_fields(engine: ad.Engine) -> None:
    source = _plan('ctx = await step.do("c", lambda c: [c.name, c.attempt])\n'
                   'return [event.payload, event.agent_id, event.instance_id, ctx]')
    await assert_output(engine, source, [{"k": 1}, "attacker", "fixed", ["c", 1]],
                        params={"k": 1}, id="fixed")
