"""Sandbox round two: what must be terminal stays terminal, and no signal leaves the plan.

Class 1: ``return``/``break``/``continue`` in ``finally`` discard the exception in flight.
The validator refuses them (ADP code), so these attacks run under ``unvalidated``: the
runtime must hold on its own. Once a budget or limit trips or the activation decides to
suspend, nothing the plan does afterwards changes the outcome.

Class 2: a budget trip inside an ``async def`` step callback or a gather branch, or an engine
step awaited inside a step callback, must fail only that instance, never the engine.

Class 3: steps inside step callbacks are refused (and never recorded).
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

from .conftest import assert_engine_alive, assert_output, assert_stopped, run

pytestmark = pytest.mark.anyio

SPIN = "while True:\n            pass"


@pytest.fixture
def unvalidated(unvalidated: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip both static lines (the validator and the compiler's own PEP 765 refusal), so
    these tests show that the runtime holds on its own."""
    from agents_durable.plans import _transform

    monkeypatch.setattr(_transform, "finally_exits", lambda finalbody: [])


def plan(body: str) -> str:
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"async def run(event, step):\n{lines}\n"


# -- class 1: finally cannot swallow what is terminal --------------------------------------


@pytest.mark.usefixtures("unvalidated")
@pytest.mark.parametrize("escape", ["return 'swallowed'", "break", "continue"])
async def test_finally_cannot_swallow_a_fuel_trip(engine, escape: str) -> None:
    body = f"""
for _ in range(3):
    try:
        {SPIN}
    finally:
        {escape}
return "completed"
"""
    await assert_stopped(engine, plan(body), "BudgetExceeded")


@pytest.mark.usefixtures("unvalidated")
async def test_finally_cannot_swallow_the_recursion_budget(engine) -> None:
    source = '''
def down(n):
    return down(n + 1)

async def run(event, step):
    try:
        down(0)
    finally:
        return "swallowed"
'''
    await assert_stopped(engine, source, "BudgetExceeded")


@pytest.mark.usefixtures("unvalidated")
async def test_finally_cannot_swallow_an_oversized_step_result(engine) -> None:
    body = """
try:
    await step.do("big", lambda: "x" * 1_500_000)
finally:
    return "swallowed"
"""
    policy = ad.PlanPolicy(fuel=10_000_000, max_string_length=2_000_000)
    await assert_stopped(engine, plan(body), "LimitExceeded", policy=policy)


@pytest.mark.usefixtures("unvalidated")
async def test_finally_cannot_swallow_the_suspension(tmp_path) -> None:
    clock = FakeClock()
    async with ad.Engine.open(tmp_path / "s.db", clock=clock) as engine:
        scope = engine.agent("attacker")
        await scope.register_plan("p", plan("""
try:
    await step.sleep("nap", "1 hour")
finally:
    return "woke"
"""))
        inst = await scope.create("p")
        await clock.settle()
        assert (await inst.status()).status == "waiting"  # not complete with a pending sleep
        await clock.advance("1 hour")
        final = await inst.wait(timeout=10)
        assert (final.status, final.output) == ("complete", "woke")
        assert [s.state for s in (await inst.history()).steps] == ["done"]


@pytest.mark.usefixtures("unvalidated")
async def test_no_steps_are_recorded_after_a_budget_trip(engine) -> None:
    body = f"""
try:
    {SPIN.replace(chr(10) + '        ', chr(10) + '    ')}
finally:
    await step.do("after the trip", lambda: 1)
    return "swallowed"
"""
    status = await assert_stopped(engine, plan(body), "BudgetExceeded")
    scope = engine.agent("attacker")
    history = await (await scope.get(status.id)).history()
    assert history.steps == []


@pytest.mark.usefixtures("unvalidated")
async def test_computation_after_a_suspension_in_finally_is_stopped(tmp_path) -> None:
    clock = FakeClock()
    async with ad.Engine.open(tmp_path / "s.db", clock=clock) as engine:
        scope = engine.agent("attacker", policy=ad.PlanPolicy(fuel=200_000))
        await scope.register_plan("p", plan("""
try:
    await step.sleep("nap", "1 hour")
finally:
    total = 0
    for i in range(100_000_000):
        total += i
"""))
        inst = await scope.create("p")
        await clock.settle()
        assert (await inst.status()).status == "waiting"


async def test_benign_finally_runs_cleanup(engine) -> None:
    await assert_output(engine, plan("""
log = []
try:
    value = await step.do("work", lambda: 41)
finally:
    log.append("cleanup")
return [value + 1, log]
"""), [42, ["cleanup"]])


async def test_benign_step_in_finally_after_success(engine) -> None:
    await assert_output(engine, plan("""
try:
    value = await step.do("work", lambda: 1)
finally:
    done = await step.do("cleanup", lambda: "ok")
return [value, done]
"""), [1, "ok"])


# -- class 2: no signal leaves the activation ------------------------------------------------


async def test_budget_trip_inside_an_async_step_callback(engine) -> None:
    body = f"""
async def spin():
    {SPIN.replace(chr(10) + '        ', chr(10) + '    ')}
return await step.do("spin", spin)
"""
    await assert_stopped(engine, plan(body), "BudgetExceeded")


async def test_budget_trip_inside_a_gather_branch(engine) -> None:
    body = f"""
async def branch(n):
    if n == 1:
        {SPIN.replace(chr(10) + '        ', chr(10) + '            ')}
    return await step.do(f"b{{n}}", lambda: n)
return await step.gather(branch(0), branch(1), branch(2))
"""
    await assert_stopped(engine, plan(body), "BudgetExceeded")


async def test_size_guard_inside_an_async_step_callback(engine) -> None:
    body = """
async def grow():
    return "x" * (10 ** 9)
return await step.do("grow", grow, retries={"limit": 0})
"""
    status = await run(engine, plan(body))
    assert status.status == "errored"
    assert status.error.name in ("BudgetExceeded", "LimitExceeded", "StepFailed")
    await assert_engine_alive(engine)


@pytest.mark.usefixtures("unvalidated")
async def test_awaiting_a_pre_created_sleep_inside_a_callback(engine) -> None:
    body = """
nap = step.sleep("nap", "1 hour")
async def sneaky():
    await nap
    return 1
return await step.do("sneaky", sneaky, retries={"limit": 0})
"""
    status = await assert_stopped(engine, plan(body), ("StepFailed", "PlanRuntimeError"))
    assert "inside a step callback" in status.error.message
    history = await (await engine.agent("attacker").get(status.id)).history()
    assert [s.name for s in history.steps] == ["sneaky"]  # the sleep never ran


@pytest.mark.usefixtures("unvalidated")
async def test_engine_survives_repeated_crash_attempts(engine) -> None:
    # The same hostile plan, many instances at once: each fails alone.
    body = f"""
async def spin():
    {SPIN.replace(chr(10) + '        ', chr(10) + '    ')}
return await step.gather(step.do("a", spin), step.do("b", spin))
"""
    scope = engine.agent("attacker", policy=ad.PlanPolicy(fuel=100_000))
    await scope.register_plan("p", plan(body))
    instances = [await scope.create("p") for _ in range(5)]
    for inst in instances:
        final = await inst.wait(timeout=30)
        assert final.status == "errored" and final.error.name == "BudgetExceeded"
    await assert_engine_alive(engine)


# -- class 3: steps inside step callbacks ---------------------------------------------------


@pytest.mark.usefixtures("unvalidated")
@pytest.mark.parametrize("inner", ["await step.now()", "await step.uuid()",
                                   "await step.do('inner', lambda: 1)",
                                   "await step.gather(step.now())"])
async def test_steps_inside_an_async_step_callback_are_refused(engine, inner: str) -> None:
    body = f"""
async def outer():
    return {inner}
return await step.do("outer", outer, retries={{"limit": 0}})
"""
    status = await assert_stopped(engine, plan(body), "StepFailed")
    assert "inside a step callback" in status.error.message
    history = await (await engine.agent("attacker").get(status.id)).history()
    assert [s.name for s in history.steps] == ["outer"]


@pytest.mark.usefixtures("unvalidated")
async def test_pre_created_now_awaited_in_a_callback_is_not_recorded(engine) -> None:
    body = """
clock = step.now()
async def outer():
    return str(await clock)
return await step.do("outer", outer, retries={"limit": 0})
"""
    status = await assert_stopped(engine, plan(body), ("StepFailed", "PlanRuntimeError"))
    history = await (await engine.agent("attacker").get(status.id)).history()
    assert "now" not in [s.kind for s in history.steps]


async def test_benign_async_callback_with_tool_work(engine) -> None:
    engine.tools.register("double", lambda x: 2 * x)
    await assert_output(engine, plan("""
async def work():
    a = await tools.double(2)
    return await tools.double(a)
now = await step.now()
return [await step.do("work", work), now.year]
"""), [8, 2026], tools=("double",))
