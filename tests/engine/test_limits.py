"""Limits and budgets (SPEC 6): payload, result and step-count limits fail the call or the
instance with a named error, never the engine; a hostile plan cannot stall other agents."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.conftest import run_plan

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024

ECHO = '''
async def run(event, step):
    reply = await step.wait_for_event("reply", type="data", timeout="1 day")
    return [event.payload, reply["payload"]]
'''


def just_over_a_mib() -> dict[str, str]:
    return {"blob": "x" * MIB}  # the JSON text adds the key and quotes: over 1 MiB


async def test_oversized_params_are_refused_and_the_engine_lives_on(
        engine: ad.Engine, clock: FakeClock) -> None:
    agent = engine.agent("agent-a")
    await agent.register_plan("echo", ECHO)
    with pytest.raises(ad.LimitExceeded, match="params"):
        await agent.create("echo", just_over_a_mib(), id="too-big")
    with pytest.raises(ad.InstanceNotFound):
        await agent.get("too-big")
    with pytest.raises(ad.LimitExceeded):
        await agent.create_batch([{"plan": "echo", "id": "fine"},
                                  {"plan": "echo", "params": just_over_a_mib(), "id": "big"}])
    with pytest.raises(ad.InstanceNotFound):
        await agent.get("fine")
    # just under the limit is accepted, and the engine still runs instances
    await agent.register_plan("measure", '''
async def run(event, step):
    reply = await step.wait_for_event("reply", type="data", timeout="1 day")
    return [len(event.payload["blob"]), len(reply["payload"]["blob"])]
''')
    near = {"blob": "y" * (MIB - 100)}
    instance = await agent.create("measure", near, id="near")
    await clock.settle()
    await instance.send_event("data", near)
    status = await instance.wait(timeout=20)
    assert status.status == "complete"
    assert status.output == [MIB - 100, MIB - 100]


async def test_oversized_event_payload_is_refused(engine: ad.Engine,
                                                 clock: FakeClock) -> None:
    agent = engine.agent("agent-a")
    await agent.register_plan("echo", ECHO)
    instance = await agent.create("echo", {"small": True})
    await clock.settle()
    with pytest.raises(ad.LimitExceeded, match="event payload"):
        await instance.send_event("data", just_over_a_mib())
    await clock.settle()
    assert (await instance.history()).events == []
    assert (await instance.status()).status == "waiting"
    await instance.send_event("data", "small")
    assert (await instance.wait(timeout=10)).output == [{"small": True}, "small"]


@pytest.mark.parametrize("params", [
    {"when": {1, 2}},
    {"nan": math.nan},
    {"inf": [math.inf]},
    {"bytes": b"raw"},
    {(1, 2): "tuple key"},
    object(),
])
async def test_non_json_params_are_a_usage_error(engine: ad.Engine, params: Any) -> None:
    agent = engine.agent("agent-a")
    await agent.register_plan("echo", ECHO)
    with pytest.raises(ad.UsageError, match="JSON"):
        await agent.create("echo", params)
    instance = await agent.create("echo", {"ok": 1})
    with pytest.raises(ad.UsageError, match="JSON"):
        await instance.send_event("data", params)
    assert (await agent.list()).items[0].id == instance.id
    assert len((await agent.list()).items) == 1


def test_default_limits_match_the_spec() -> None:
    limits = ad.Limits()
    assert limits.max_steps == 10_000
    assert limits.max_payload_bytes == MIB
    assert limits.max_result_bytes == MIB


MANY_STEPS = '''
async def run(event, step):
    total = 0
    for i in range(event.payload["n"]):
        total += await step.do("step", lambda: i)
    return total
'''


@pytest.mark.parametrize(("n", "expected"), [(40, "complete"), (41, "errored")])
async def test_step_count_limit(tmp_path: Path, clock: FakeClock, n: int,
                                expected: str) -> None:
    async with ad.Engine.open(tmp_path / "steps.db", clock=clock,
                              limits=ad.Limits(max_steps=40)) as engine:
        status = await run_plan(engine, MANY_STEPS, {"n": n})
    assert status.status == expected
    if expected == "complete":
        assert status.output == sum(range(40))
    else:
        assert status.error is not None
        assert status.error.name == "LimitExceeded"
        assert "40" in status.error.message
        assert len(status.steps) == 40  # the first 40 results stay in the journal


async def test_step_count_limit_counts_across_activations(tmp_path: Path,
                                                          clock: FakeClock) -> None:
    async with ad.Engine.open(tmp_path / "steps.db", clock=clock,
                              limits=ad.Limits(max_steps=10)) as engine:
        agent = engine.agent("agent-a")
        await agent.register_plan("napper", '''
async def run(event, step):
    for i in range(20):
        await step.sleep("nap", "1 hour")
    return "never"
''')
        instance = await agent.create("napper")
        await clock.advance("1 day")
        status = await instance.wait(timeout=10)
    assert status.error is not None and status.error.name == "LimitExceeded"


@pytest.mark.parametrize(("size", "expected"), [(900, "complete"), (1100, "errored")])
async def test_step_result_limit(tmp_path: Path, clock: FakeClock, size: int,
                                 expected: str) -> None:
    async with ad.Engine.open(tmp_path / "result.db", clock=clock,
                              limits=ad.Limits(max_result_bytes=1000)) as engine:
        status = await run_plan(engine, '''
async def run(event, step):
    text = await step.do("make", lambda: "z" * event.payload["size"])
    return len(text)
''', {"size": size})
    assert status.status == expected
    if expected == "errored":
        assert status.error is not None
        assert status.error.name == "LimitExceeded"
        assert "make" in status.error.message
        assert status.error.step == "make"
    else:
        assert status.output == size


async def test_output_over_the_result_limit(tmp_path: Path, clock: FakeClock) -> None:
    async with ad.Engine.open(tmp_path / "output.db", clock=clock,
                              limits=ad.Limits(max_result_bytes=1000)) as engine:
        status = await run_plan(engine, '''
async def run(event, step):
    return "w" * 2000
''')
    assert status.error is not None and status.error.name == "LimitExceeded"


async def test_tool_result_over_the_limit_fails_the_step(tmp_path: Path,
                                                         clock: FakeClock) -> None:
    async with ad.Engine.open(tmp_path / "tool.db", clock=clock,
                              limits=ad.Limits(max_payload_bytes=1000)) as engine:
        engine.tools.register("huge", lambda: "h" * 5000)
        status = await run_plan(engine, '''
async def run(event, step):
    try:
        await step.do("fetch", lambda: tools.huge(), retries={"limit": 0})
    except StepFailed as failure:
        return failure.cause
''', tools=("huge",))
    assert status.status == "complete"
    assert status.output == "ToolError"


async def test_hostile_plan_does_not_stall_another_agent(engine: ad.Engine,
                                                         clock: FakeClock) -> None:
    hostile = engine.agent("agent-a")
    await hostile.register_plan("spin", '''
async def run(event, step):
    await step.do("warm up", lambda: 1)
    n = 0
    while True:
        n += 1
''')
    victim = engine.agent("agent-b")
    await victim.register_plan("work", '''
async def run(event, step):
    a = await step.do("one", lambda: 1)
    await step.sleep("short", "1 minute")
    b = await step.do("two", lambda: 2)
    return a + b
''')
    spinning = await hostile.create("spin", id="spinner")
    working = await victim.create("work", id="worker")
    await clock.advance("2 minutes")
    status_b = await working.wait(timeout=60)
    status_a = await spinning.wait(timeout=60)
    assert (status_b.status, status_b.output) == ("complete", 3)
    assert status_a.status == "errored"
    assert status_a.error is not None and status_a.error.name == "BudgetExceeded"
    # the engine keeps serving both agents afterwards
    again = await victim.create("work", id="worker-2")
    await clock.advance("2 minutes")
    assert (await again.wait(timeout=10)).output == 3


async def test_hostile_recursion_and_allocation_are_budgeted(engine: ad.Engine) -> None:
    agent = engine.agent("agent-a")
    await agent.register_plan("deep", '''
def down(n):
    return down(n + 1)

async def run(event, step):
    return down(0)
''')
    await agent.register_plan("huge", '''
async def run(event, step):
    s = "x" * 1000
    while True:
        s = s + s
''')
    deep = await (await agent.create("deep")).wait(timeout=60)
    huge = await (await agent.create("huge")).wait(timeout=60)
    assert deep.error is not None and deep.error.name == "BudgetExceeded"
    assert huge.error is not None and huge.error.name == "BudgetExceeded"
