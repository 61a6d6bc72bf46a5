"""The builtin functions are shared by every activation (``plans/_builtins``): two hostile
plans, running alongside, try every route to poison them (attributes of builtin functions
and stand-in types, their ``__dict__`` and closures, module facades, print, the budget), and
a third agent's plan, running at the same time and afterwards, sees none of it.

Run without our validator (``unvalidated``): the runtime guards must hold on their own.
"""

from __future__ import annotations

from typing import Any

import pytest

import agents_durable as ad
from agents_durable.plans import _builtins
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

#: Every attack is caught; the poisoner returns the names of those that did not raise.
POISONER = '''
import math
import json

def attempt(results, name, fn):
    try:
        fn()
        results.append(name)
    except Exception:
        pass

def poison(results):
    attempt(results, "sorted.attr", lambda: setattr(sorted, "poison", 1))
    attempt(results, "delattr", lambda: delattr(list, "real"))
    attempt(results, "getattr dict", lambda: getattr(sorted, "__dict__").update(poison=1))
    attempt(results, "getattr closure", lambda: getattr(min, "__closure__"))
    attempt(results, "getattr globals", lambda: getattr(sorted, "__globals__"))
    attempt(results, "getattr defaults", lambda: getattr(sorted, "__kwdefaults__"))
    attempt(results, "getattr code", lambda: getattr(range, "__code__"))
    attempt(results, "standin real", lambda: getattr(list, "real"))
    attempt(results, "standin build", lambda: getattr(list, "build"))
    attempt(results, "type class", lambda: getattr(type([]), "__class__"))
    attempt(results, "print self", lambda: getattr(print, "__self__"))
    attempt(results, "math attr", lambda: setattr(math, "floor", len))
    attempt(results, "json attr", lambda: setattr(json, "dumps", repr))

def assign(results):
    # plain assignment statements (RestrictedPython's _write_ guard)
    try:
        sorted.poison = 1
        results.append("sorted.poison =")
    except Exception:
        pass
    try:
        list.real = str
        results.append("list.real =")
    except Exception:
        pass
    try:
        list.build = sorted
        results.append("list.build =")
    except Exception:
        pass
    try:
        del list.build
        results.append("del list.build")
    except Exception:
        pass
    try:
        print.poison = 1
        results.append("print.poison =")
    except Exception:
        pass
    try:
        math.floor = len
        results.append("math.floor =")
    except Exception:
        pass
    try:
        del json.dumps
        results.append("del json.dumps")
    except Exception:
        pass
    try:
        ValueError.poison = 1
        results.append("ValueError.poison =")
    except Exception:
        pass
    try:
        NonRetryableError.poison = 1
        results.append("NonRetryableError.poison =")
    except Exception:
        pass

# rebinding names changes this activation's own globals only
sorted = lambda items, **kw: ["poisoned"]
list = tuple

async def run(event, step):
    await step.sleep("start", "1 minute")  # all three wake together, and interleave
    results = []
    poison(results)
    assign(results)
    for k in range(4):
        print(f"poisoner line {k}")
        await step.do(f"step {k}", lambda: k)
    await step.sleep("nap", "1 hour")
    results.append(sorted([2, 1]) == ["poisoned"])
    return results
'''

#: Spends almost all of its fuel between steps, then trips the budget.
EXHAUSTER = '''
async def run(event, step):
    await step.sleep("start", "1 minute")
    for k in range(3):
        print(f"exhauster line {k}")
        await step.do(f"step {k}", lambda: k)
        total = 0
        for n in range(event.payload["spin"]):
            total += n
    while True:
        total += 1
'''

VICTIM = '''
import math
import json

async def run(event, step):
    await step.sleep("start", "1 minute")
    seen = []
    for k in range(4):
        print(f"victim line {k}")
        await step.do(f"step {k}", lambda: k)
        total = 0
        for n in range(event.payload["spin"]):
            total += n
        seen.append([
            sorted([3, 1, 2]), list("ab"), type([]) is list, isinstance((), tuple),
            str(5), math.floor(1.5), json.dumps([1]), hasattr(sorted, "poison"),
            getattr(list, "poison", None), hasattr(ValueError, "poison"),
            hasattr(NonRetryableError, "poison"), dict(a=1), min([4, 2]), total,
        ])
    await step.sleep("nap", "2 hours")
    return seen
'''


def _expected_row(spin: int) -> list[Any]:
    return [[1, 2, 3], ["a", "b"], True, True, "5", 1, "[1]", False, None, False, False,
            {"a": 1}, 2, sum(range(spin))]


async def test_hostile_plans_cannot_poison_the_shared_builtins(
        engine: ad.Engine, clock: FakeClock, unvalidated: None) -> None:
    policy = ad.PlanPolicy(fuel=200_000, max_slice_seconds=5.0)
    spin = 40_000  # a fifth of the fuel per slice: the victim never trips, whoever runs
    hostile = []
    for agent in ("mallory", "trudy"):
        scope = engine.agent(agent, policy=policy)
        await scope.register_plan("poison", POISONER)
        await scope.register_plan("exhaust", EXHAUSTER)
        hostile.append(await scope.create("poison"))
        hostile.append(await scope.create("exhaust", {"spin": spin * 4}))
    victim_scope = engine.agent("alice", policy=policy)
    await victim_scope.register_plan("victim", VICTIM)
    victim = await victim_scope.create("victim", {"spin": spin})
    await clock.settle()
    await clock.advance("1 minute")
    await clock.advance("3 hours")
    for instance in hostile[0::2]:
        status = await instance.wait(timeout=30)
        assert status.status == "complete", status.error
        assert status.output == [True]  # no attack got through; its own rebinding held
    for instance in hostile[1::2]:
        status = await instance.wait(timeout=30)
        assert status.status == "errored" and "fuel" in str(status.error).lower()
    status = await victim.wait(timeout=30)
    assert status.status == "complete", status.error
    assert status.output == [_expected_row(spin)] * 4
    history = await victim.history()
    assert [entry.line for entry in history.logs] == [f"victim line {k}" for k in range(4)]
    # and a victim started after the attacks sees the same
    later = await victim_scope.create("victim", {"spin": spin})
    await clock.advance("3 hours")
    status = await later.wait(timeout=30)
    assert status.output == [_expected_row(spin)] * 4
    _assert_template_untouched()


def _assert_template_untouched() -> None:
    """The host's shared objects (inline isolation runs plans in this process)."""
    for name, value in _builtins._TEMPLATE.items():
        assert not hasattr(value, "poison"), name
    for real, standin in _builtins._STANDINS.items():
        assert standin.real is real
    assert not hasattr(ValueError, "poison") and not hasattr(ad.NonRetryableError, "poison")


def test_shared_builtins_fail_closed_outside_an_activation() -> None:
    with pytest.raises(RuntimeError, match="outside a plan activation"):
        _builtins._TEMPLATE["sorted"]([2, 1])
    with pytest.raises(RuntimeError, match="outside a plan activation"):
        _builtins._TEMPLATE["print"]("hi")
    with pytest.raises(AttributeError):
        _builtins._STANDINS[list].real = str  # type: ignore[misc]
