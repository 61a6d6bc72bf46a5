"""Category 9, cross-run and cross-tenant state: nothing survives from one activation to
the next or crosses from one agent to another; foreign instances look missing; routing
metadata is not in the params.
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.security.conftest import assert_output, assert_rejected

pytestmark = pytest.mark.anyio

STATEFUL = '''
CACHE = {"hits": 0}
SEEN = []

async def run(event, step):
    CACHE["hits"] += 1
    SEEN.append(event.instance_id)
    before = [CACHE["hits"], len(SEEN)]
    await step.sleep("nap", "1 hour")
    return {"before": before, "after": [CACHE["hits"], len(SEEN)]}
'''


async def test_module_globals_do_not_leak_between_activations_or_agents(
        engine: ad.Engine, clock: FakeClock) -> None:
    instances = []
    for agent in ("tenant-a", "tenant-b"):
        scope = engine.agent(agent)
        await scope.register_plan("stateful", STATEFUL)
        instances += [await scope.create("stateful", id="one"),
                      await scope.create("stateful", id="two")]
    await clock.advance("2 hours")
    for instance in instances:
        status = await instance.wait(timeout=20)
        # each activation starts from the constants: 1 hit, 1 seen, before and after replay
        assert status.output == {"before": [1, 1], "after": [1, 1]}


async def test_facade_mutation_does_not_reach_the_next_activation(
        engine: ad.Engine, clock: FakeClock, unvalidated: None) -> None:
    source = '''
import math

async def run(event, step):
    try:
        math.pi = 3
    except AttributeError:
        pass
    first = math.pi
    await step.sleep("nap", "1 hour")
    return [first, math.pi]
'''
    scope = engine.agent("tenant-a")
    await scope.register_plan("poison", source)
    instance = await scope.create("poison")
    await clock.advance("2 hours")
    status = await instance.wait(timeout=20)
    assert status.output == [3.141592653589793, 3.141592653589793]


def test_random_is_not_importable() -> None:
    assert_rejected("import random\n\nasync def run(event, step):\n    return 1\n", "ADP201")


async def test_step_random_is_recorded_per_instance(engine: ad.Engine,
                                                    clock: FakeClock) -> None:
    source = '''
async def run(event, step):
    first = await step.random()
    await step.sleep("nap", "1 hour")
    again = await step.random()
    return [first, again]
'''
    scope = engine.agent("tenant-a")
    await scope.register_plan("dice", source)
    one, two = await scope.create("dice"), await scope.create("dice")
    await clock.advance("2 hours")
    a, b = (await one.wait(timeout=20)).output, (await two.wait(timeout=20)).output
    assert a[0] != b[0] and a[1] != b[1] and a[0] != a[1]
    history = await one.history()
    assert [s.result for s in history.steps if s.kind == "random"] == a  # replay reused it


async def test_foreign_instances_look_exactly_like_missing_ones(engine: ad.Engine) -> None:
    owner, other = engine.agent("tenant-a"), engine.agent("tenant-b")
    await owner.register_plan("p", "async def run(event, step):\n    return 1\n")
    await owner.create("p", id="secret")
    with pytest.raises(ad.InstanceNotFound) as foreign:
        await other.get("secret")
    with pytest.raises(ad.InstanceNotFound) as missing:
        await other.get("nothing")
    assert str(foreign.value).replace("secret", "X") == str(missing.value).replace(
        "nothing", "X")
    assert [i.id for i in (await other.list()).items] == []
    with pytest.raises(ad.PlanNotFound):
        await other.create("p")


async def test_same_id_in_two_tenants_is_two_instances(engine: ad.Engine) -> None:
    for agent, value in (("tenant-a", 1), ("tenant-b", 2)):
        scope = engine.agent(agent)
        await scope.register_plan("p", "async def run(event, step):\n"
                                       "    return event.payload\n")
        await scope.create("p", value, id="shared-id")
    for agent, value in (("tenant-a", 1), ("tenant-b", 2)):
        status = await (await engine.agent(agent).get("shared-id")).wait(timeout=20)
        assert status.output == value


async def test_routing_metadata_in_params_is_just_data(engine: ad.Engine) -> None:
    source = "async def run(event, step):\n    return [event.agent_id, event.payload]\n"
    params = {"agent_id": "tenant-b", "plan_hash": "0" * 64, "instance_id": "x"}
    await assert_output(engine, source, ["attacker", params], params=params)


async def test_a_plan_cannot_name_another_instance(engine: ad.Engine,
                                                   unvalidated: None) -> None:
    # There is no API on event/step/tools that takes an instance id; the engine is not
    # reachable through any facade attribute.
    source = ("async def run(event, step):\n"
              "    return [hasattr(step, 'instances'), hasattr(tools, 'engine'), "
              "hasattr(event, 'engine'), hasattr(step, 'get')]\n")
    await assert_output(engine, source, [False, False, False, False])
