"""Sandbox round three: attacks on what the plan language just gained.

Surfaces: ``await`` in comprehensions, computed top-level values, ``match``/``nonlocal``,
``@step.do`` step functions (``ctx`` and result injection), ``step.gather`` branch scopes,
terminal decisions, ``dict.fromkeys`` and storage quotas. Each attack that gets through on
the current code is kept as a strict ``xfail`` naming what happened; each has a benign twin
that must keep working.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

from .conftest import assert_engine_alive, assert_output, assert_stopped, run

pytestmark = pytest.mark.anyio

BUDGET = ("BudgetExceeded", "LimitExceeded")


def plan(body: str, head: str = "") -> str:
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"{head}async def run(event, step):\n{lines}\n"


async def stopped_or_refused(engine: ad.Engine, source: str, **kwargs: object) -> None:
    """Registration refuses ``source`` (validator or restricted compiler), or its run errors."""
    try:
        status = await run(engine, source, **kwargs)  # type: ignore[arg-type]
    except ad.PlanRejected:
        return
    assert status.status == "errored", (status.status, status.output)
    await assert_engine_alive(engine)


async def _timed_stop(engine: ad.Engine, source: str) -> None:
    """The plan is stopped with a budget error (unpriced, it ran to completion)."""
    status = await run(engine, source)
    assert status.status == "errored", (status.status, status.output)
    assert status.error is not None and status.error.name in BUDGET, status.error
    await assert_engine_alive(engine)


# -- match: sequence patterns materialise the subject in C ---------------------------------


async def test_star_pattern_on_a_big_range_is_charged(engine: ad.Engine) -> None:
    source = plan("""
r = range(1_000_000)
n = 0
while n < 300:
    n += 1
    match r:
        case [*rest]:
            pass
return n
""")
    await _timed_stop(engine, source)


async def test_starred_assignment_of_a_big_range_is_charged(engine: ad.Engine) -> None:
    source = plan("""
r = range(1_000_000)
n = 0
while n < 200:
    n += 1
    a, *b = r
return n
""")
    await _timed_stop(engine, source)


@pytest.mark.parametrize("display", ["[*r]", "(*r,)", "{*r}", "dict.fromkeys(r)",
                                     "list(r)", "[x for x in r]"])
async def test_other_copies_of_a_big_range_are_charged(engine: ad.Engine,
                                                       display: str) -> None:
    source = plan(f"""
r = range(1_000_000)
n = 0
while n < 300:
    n += 1
    b = {display}
return n
""")
    await _timed_stop(engine, source)


async def test_star_patterns_benign_twin(engine: ad.Engine) -> None:
    source = plan("""
match event.payload:
    case {"items": [first, *rest]}:
        return [first, len(rest)]
    case _:
        return None
""")
    await assert_output(engine, source, [1, 2], {"items": [1, 2, 3]})


@pytest.mark.parametrize("pattern", [
    "object(_activation=a)", "str(__class__=a)", "int(real=a)", "dict(get=a)",
])
async def test_class_patterns_cannot_read_attributes(engine: ad.Engine, pattern: str) -> None:
    source = plan(f"match step:\n    case {pattern}:\n        return str(a)\n"
                  "    case _:\n        return 'no'")
    assert ad.validate_plan(source) and any(
        d.severity == "error" for d in ad.validate_plan(source))


# -- step functions -----------------------------------------------------------------------

SHARED_DEPENDENCY = '''
async def run(event, step):
    @step.do("charge")
    async def charged():
        return await tools.charge()

    @step.do("receipt")
    async def receipt(charged):
        return ["receipt", charged]

    @step.do("email")
    async def email(charged):
        return ["email", charged]

    out = await step.gather(receipt(), email())
    await step.sleep("then", "1 minute")
    return out
'''


async def test_a_shared_dependency_runs_once(engine: ad.Engine) -> None:
    charges: list[int] = []

    def charge() -> int:
        charges.append(1)
        return len(charges)

    engine.tools.register("charge", charge)
    source = SHARED_DEPENDENCY.replace('    await step.sleep("then", "1 minute")\n', "")
    status = await run(engine, source, tools=("charge",))
    assert status.status == "complete", status.error
    assert charges == [1]
    assert status.output == [["receipt", 1], ["email", 1]]


async def test_a_shared_dependency_replays(tmp_path: Path) -> None:
    clock = FakeClock()
    charges: list[int] = []

    async def charge() -> int:
        charges.append(1)
        await anyio.lowlevel.checkpoint()
        return len(charges)

    async with ad.Engine.open(tmp_path / "e.db", clock=clock) as engine:
        engine.tools.register("charge", charge)
        agent = engine.agent("a", tools=["charge"])
        await agent.register_plan("p", SHARED_DEPENDENCY)
        instance = await agent.create("p")
        await clock.settle()
        await clock.advance("2 minutes")
        status = await instance.wait(timeout=20)
    assert status.status == "complete", status.error
    assert len(charges) == 1


async def test_cyclic_step_functions_are_refused(engine: ad.Engine) -> None:
    source = plan("""
@step.do("a")
async def a(b):
    return 1

@step.do("b")
async def b(a):
    return 2

return await a()
""")
    refused = [d.code for d in ad.validate_plan(source) if d.severity == "error"]
    if not refused:
        status = await run(engine, source)
        assert status.status == "errored"
        assert status.error is not None and status.error.name != "RecursionError", status.error
        await assert_engine_alive(engine)


async def test_a_step_function_chain_benign_twin(engine: ad.Engine) -> None:
    source = plan("""
@step.do("load order")
async def order(ctx):
    return {"id": 7, "attempt": ctx.attempt}

@step.do()
async def total(order):
    return order["id"] * 2

@step.do("report")
def report(order, total, note="ok"):
    return [order["id"], total, note]

return await report(note="fine")
""")
    await assert_output(engine, source, [7, 14, "fine"])


@pytest.mark.parametrize("reach", [
    "ctx.owner", "ctx._owner", "load._activation", "load._fn", "load._result",
    "load()._function", "step.do('x')._apply", "step._activation",
])
async def test_step_function_internals_are_out_of_reach(engine: ad.Engine, reach: str) -> None:
    source = plan(f"""
@step.do("load")
async def load(ctx):
    return str({reach})

return await load()
""")
    await stopped_or_refused(engine, source)


@pytest.mark.usefixtures("unvalidated")
async def test_a_step_function_cannot_be_decorated_onto_a_host_callable(
        engine: ad.Engine) -> None:
    source = plan("""
f = step.do("nested")(step.do)
return await f("x", lambda: 1)
""")
    await assert_stopped(engine, source, ("StepFailed", "PlanRuntimeError", "PlanAccessError"))


# -- gather branches and terminal decisions ---------------------------------------------------

EFFECT_AFTER_TRIP = '''
async def work():
    await tools.slow()
    await tools.effect()
    return 1

def spin():
    while True:
        pass

async def run(event, step):
    async def trip():
        await step.do("noop", lambda: 0)
        spin()
    return await step.gather(step.do("work", work), trip())
'''


async def test_no_tool_runs_after_the_budget_trips(engine: ad.Engine) -> None:
    effects: list[str] = []

    async def slow() -> int:
        await anyio.sleep(0.3)
        return 1

    def effect() -> int:
        effects.append("effect")
        return 2

    engine.tools.register("slow", slow)
    engine.tools.register("effect", effect)
    status = await run(engine, EFFECT_AFTER_TRIP, tools=("slow", "effect"))
    assert status.status == "errored" and status.error is not None
    assert status.error.name == "BudgetExceeded"
    assert effects == []


async def test_a_branch_cannot_keep_stepping_after_it_suspends(engine: ad.Engine) -> None:
    source = plan("""
async def sleeper():
    try:
        await step.sleep("nap", "1 day")
    finally:
        await step.do("after nap", lambda: "ran")

async def other():
    return await step.do("other", lambda: 1)

return await step.gather(sleeper(), other())
""")
    instance = await run_no_wait(engine, source)
    assert (await instance.status()).status == "waiting"
    history = await instance.history()
    assert [s.name for s in history.steps] == ["nap", "other"]
    await assert_engine_alive(engine)


async def run_no_wait(engine: ad.Engine, source: str) -> ad.Instance:
    """Start ``source`` and return once its first activation has ended."""
    scope = engine.agent("attacker")
    await scope.register_plan("attack", source)
    instance = await scope.create("attack")
    for _ in range(50):
        await anyio.sleep(0.01)
        if (await instance.status()).status != "running":
            break
    return instance


async def test_a_gather_branch_cannot_reuse_one_coroutine(engine: ad.Engine) -> None:
    source = plan("""
async def helper():
    return await step.do("h", lambda: 1)

c = helper()
return await step.gather(c, c)
""")
    status = await run(engine, source)
    assert status.status == "errored"
    await assert_engine_alive(engine)


# -- top-level values ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "sum([i for i in range(10 ** 6)] * 5)",
    "[[0] * 1000 for _ in range(10 ** 6)]",
    "dict.fromkeys(range(10 ** 6))",
    "max(range(10 ** 6))",
])
async def test_top_level_work_is_budgeted(engine: ad.Engine, value: str) -> None:
    source = f"X = {value}\n" + plan("return 1")
    await _timed_stop(engine, source)


async def test_top_level_code_cannot_reach_tools_through_a_helper(engine: ad.Engine) -> None:
    calls: list[int] = []
    engine.tools.register("ping", lambda: calls.append(1))
    source = ("def load():\n    return tools.ping()\n\nX = load()\n"
              + plan("return 1"))
    await assert_stopped(engine, source, ("ToolUsageError", "PlanRuntimeError"),
                         tools=("ping",))
    assert calls == []


@pytest.mark.parametrize("value", [
    "__import__('os')", "globals()", "vars()", "type(run)", "run.__globals__",
    "(lambda: 0).__code__", "_getattr_", "__builtins__",
])
async def test_top_level_values_reach_nothing(engine: ad.Engine, value: str) -> None:
    source = f"X = {value}\n" + plan("return str(X)")
    refused = [d.code for d in ad.validate_plan(source) if d.severity == "error"]
    if not refused:
        status = await run(engine, source)
        assert status.status == "errored", status.output
        await assert_engine_alive(engine)


async def test_top_level_state_does_not_survive_activations(engine: ad.Engine,
                                                            clock: FakeClock) -> None:
    source = "SEEN = []\n" + plan("""
SEEN.append(1)
await step.sleep("nap", "1 minute")
return len(SEEN)
""")
    scope = engine.agent("a")
    await scope.register_plan("p", source)
    first = await scope.create("p")
    second = await scope.create("p")
    await clock.settle()
    await clock.advance("2 minutes")
    assert (await first.wait(timeout=20)).output == 1
    assert (await second.wait(timeout=20)).output == 1


async def test_computed_top_level_values_benign_twin(engine: ad.Engine) -> None:
    source = ("from decimal import Decimal\nfrom datetime import timedelta\n"
              "CENT = Decimal('0.01')\nGRACE = timedelta(days=3)\n"
              "RATES = {k: v for k, v in [('a', 1), ('b', 2)]}\n"
              "KEYS = dict.fromkeys(['x', 'y'], 0)\n" + plan("""
total = Decimal("10.005").quantize(CENT)
return [str(total), GRACE.days, RATES["b"], sorted(KEYS)]
"""))
    await assert_output(engine, source, ["10.00", 3, 2, ["x", "y"]])


# -- await in comprehensions ----------------------------------------------------------------------


async def test_await_in_list_comprehension_benign_twin(engine: ad.Engine) -> None:
    source = plan("""
squares = [await step.do(f"sq {i}", lambda i=i: i * i) for i in range(4)]
names = {await step.do(f"n {k}", lambda k=k: k.upper()): k for k in ["a", "b"]}
return [squares, names]
""")
    await assert_output(engine, source, [[0, 1, 4, 9], {"A": "a", "B": "b"}])


@pytest.mark.usefixtures("unvalidated")
@pytest.mark.parametrize("reach", ["g.ag_frame", "g.ag_code", "g.asend", "g.athrow",
                                   "g.aclose"])
async def test_an_async_generator_exposes_nothing(engine: ad.Engine, reach: str) -> None:
    source = plan(f"""
g = (await step.do("x", lambda: 1) for _ in range(1))
return str({reach})
""")
    await stopped_or_refused(engine, source)


async def test_comprehension_steps_replay_in_order(engine: ad.Engine,
                                                   clock: FakeClock) -> None:
    source = plan("""
got = [await step.do(f"s{i}", lambda i=i: i) for i in range(3)]
await step.sleep("nap", "1 minute")
again = [await step.do(f"t{i}", lambda i=i: i) for i in got]
return got + again
""")
    scope = engine.agent("a")
    await scope.register_plan("p", source)
    instance = await scope.create("p")
    await clock.settle()
    await clock.advance("2 minutes")
    status = await instance.wait(timeout=20)
    assert (status.status, status.output) == ("complete", [0, 1, 2, 0, 1, 2])


# -- nonlocal -----------------------------------------------------------------------------------


async def test_nonlocal_cannot_rebind_a_guard(engine: ad.Engine) -> None:
    source = plan("""
def outer():
    _getattr_ = None
    def inner():
        nonlocal _getattr_
        _getattr_ = len
    inner()
outer()
return 1
""")
    assert any(d.severity == "error" for d in ad.validate_plan(source))


# -- nondeterminism through the new forms --------------------------------------------------------


@pytest.mark.parametrize("source", [
    'async def run(event, step):\n'
    '    return [await step.do(n, lambda: 1) for n in {"a", "b", "c"}]\n',
    'NAMES = list({"a", "b", "c"})\nasync def run(event, step):\n'
    '    return [await step.do(n, lambda: 1) for n in NAMES]\n',
])
def test_set_order_in_step_names_is_flagged(source: str) -> None:
    assert "ADP414" in [d.code for d in ad.validate_plan(source)], "no set-order warning"
