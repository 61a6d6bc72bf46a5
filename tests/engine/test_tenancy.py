"""Tenancy (SPEC 6): an agent cannot see, signal or even learn of another agent's
instances and plans. A foreign id must look exactly like a missing one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

WAITS = '''
async def run(event, step):
    reply = await step.wait_for_event("reply", type="go", timeout="2 days")
    return {"agent": event.agent_id, "reply": reply["payload"], "params": event.payload}
'''

QUICK = '''
async def run(event, step):
    return await step.do("echo", lambda: [event.agent_id, event.instance_id, event.payload])
'''

Operation = Callable[[ad.Instance], Awaitable[Any]]

OPERATIONS: dict[str, Operation] = {
    "status": lambda h: h.status(),
    "history": lambda h: h.history(),
    "send_event": lambda h: h.send_event("go", {"from": "intruder"}),
    "pause": lambda h: h.pause(),
    "resume": lambda h: h.resume(),
    "terminate": lambda h: h.terminate(),
    "restart": lambda h: h.restart(),
    "restart from a step": lambda h: h.restart(from_step=("reply", 1)),
    "wait": lambda h: h.wait(timeout=5),
}


async def outcome(call: Callable[[], Awaitable[Any]]) -> tuple[str, str]:
    """The error ``call`` raises, as (type name, message); fails the test if none."""
    try:
        await call()
    except Exception as error:
        return type(error).__name__, str(error)
    raise AssertionError("the call succeeded; it should have raised")


async def foreign_outcomes(agent_b: ad.AgentScope, instance_id: str) -> dict[str, tuple]:
    """What agent B gets for every operation on ``instance_id``."""
    results = {"get": await outcome(lambda: agent_b.get(instance_id))}
    for name, operation in OPERATIONS.items():
        # A handle built by hand: the only way B could even try to address the instance.
        handle = ad.Instance(agent_b, instance_id)
        results[name] = await outcome(lambda op=operation, h=handle: op(h))
    return results


@pytest.mark.parametrize("state", ["waiting", "paused", "complete"])
async def test_foreign_instance_looks_exactly_like_a_missing_one(
        engine: ad.Engine, clock: FakeClock, state: str) -> None:
    agent_a = engine.agent("agent-a")
    agent_b = engine.agent("agent-b")
    await agent_a.register_plan("plan", WAITS)
    await agent_b.register_plan("plan", WAITS)

    missing = await foreign_outcomes(agent_b, "secret-order")
    assert {kind for kind, _ in missing.values()} == {"InstanceNotFound"}

    instance = await agent_a.create("plan", {"card": "4111"}, id="secret-order")
    await clock.settle()
    if state == "paused":
        await instance.pause()
    elif state == "complete":
        await instance.send_event("go", "from a")
        await instance.wait(timeout=10)
    before = await instance.status()
    assert before.status == state

    foreign = await foreign_outcomes(agent_b, "secret-order")
    assert foreign == missing

    # and none of it touched agent A's instance
    await clock.settle()
    after = await instance.status()
    assert after.status == state
    assert after.steps == before.steps
    if state == "waiting":
        assert (await instance.history()).events == []
        await instance.send_event("go", "from a")
        status = await instance.wait(timeout=10)
        assert status.output == {"agent": "agent-a", "reply": "from a",
                                 "params": {"card": "4111"}}


async def test_same_id_under_two_agents_is_two_instances(engine: ad.Engine,
                                                         clock: FakeClock) -> None:
    agent_a = engine.agent("agent-a")
    agent_b = engine.agent("agent-b")
    await agent_a.register_plan("plan", WAITS)
    await agent_b.register_plan("plan", WAITS)
    mine = await agent_a.create("plan", {"who": "a"}, id="order-7")
    theirs = await agent_b.create("plan", {"who": "b"}, id="order-7")
    with pytest.raises(ad.InstanceExists):
        await agent_b.create("plan", id="order-7")
    await clock.settle()

    await theirs.send_event("go", "for b")
    status_b = await theirs.wait(timeout=10)
    assert status_b.output == {"agent": "agent-b", "reply": "for b", "params": {"who": "b"}}
    assert (await mine.status()).status == "waiting"  # B's event did not reach A

    # B's restart runs B again (its inbox still holds its event), and A never notices.
    await theirs.restart()
    assert (await theirs.wait(timeout=10)).output == status_b.output
    assert (await mine.status()).status == "waiting"

    await mine.send_event("go", "for a")
    status_a = await mine.wait(timeout=10)
    assert status_a.output == {"agent": "agent-a", "reply": "for a", "params": {"who": "a"}}
    assert (await agent_a.get("order-7")).agent_id == "agent-a"
    assert (await (await agent_b.get("order-7")).status()).status == "complete"


async def test_list_never_shows_foreign_instances(engine: ad.Engine,
                                                  clock: FakeClock) -> None:
    agent_a = engine.agent("agent-a")
    agent_b = engine.agent("agent-b")
    for agent in (agent_a, agent_b):
        await agent.register_plan("plan", QUICK)
        await agent.register_plan("waits", WAITS)
    for i in range(4):
        await agent_a.create("plan", id=f"a{i}")
    await agent_a.create("waits", id="a-waits")
    for i in range(3):
        await agent_b.create("plan", id=f"b{i}")
    await clock.settle()

    async def every_id(agent: ad.AgentScope, **filters: Any) -> set[str]:
        ids: list[str] = []
        cursor = None
        while True:
            page = await agent.list(limit=2, cursor=cursor, **filters)
            ids.extend(s.id for s in page.items)
            cursor = page.next_cursor
            if cursor is None:
                return set(ids)

    assert await every_id(agent_a) == {"a0", "a1", "a2", "a3", "a-waits"}
    assert await every_id(agent_b) == {"b0", "b1", "b2"}
    assert await every_id(agent_b, plan="plan") == {"b0", "b1", "b2"}
    assert await every_id(agent_b, status="waiting") == set()
    assert await every_id(agent_b, plan="waits") == set()
    assert await every_id(engine.agent("agent-c")) == set()
    # a cursor from agent A's listing does not open a window on A's instances for B
    page_a = await agent_a.list(limit=1)
    assert page_a.next_cursor is not None
    rest = await agent_b.list(cursor=page_a.next_cursor, limit=100)
    assert {s.id for s in rest.items} <= {"b0", "b1", "b2"}


async def test_params_cannot_set_routing_fields(engine: ad.Engine) -> None:
    agent_a = engine.agent("agent-a")
    agent_b = engine.agent("agent-b")
    version_a = await agent_a.register_plan("plan", QUICK)
    version_b = await agent_b.register_plan("plan", '''
async def run(event, step):
    return "agent b's code ran"
''')
    sneaky = {"agent_id": "agent-b", "plan_hash": version_b.hash, "id": "other",
              "instance_id": "other", "status": "complete", "plan": "plan"}
    instance = await agent_a.create("plan", sneaky, id="routed")
    status = await instance.wait(timeout=10)
    assert status.status == "complete"
    assert status.output == ["agent-a", "routed", sneaky]
    assert status.plan_hash == version_a.hash
    with pytest.raises(ad.InstanceNotFound):
        await agent_b.get("routed")
    with pytest.raises(ad.InstanceNotFound):
        await agent_a.get("other")


async def test_events_cannot_set_routing_fields(engine: ad.Engine, clock: FakeClock) -> None:
    agent_a = engine.agent("agent-a")
    agent_b = engine.agent("agent-b")
    await agent_a.register_plan("plan", WAITS)
    await agent_b.register_plan("plan", WAITS)
    theirs = await agent_b.create("plan", id="target")
    mine = await agent_a.create("plan", id="mine")
    await clock.settle()
    await mine.send_event("go", {"agent_id": "agent-b", "instance_id": "target"})
    status = await mine.wait(timeout=10)
    assert status.output["reply"] == {"agent_id": "agent-b", "instance_id": "target"}
    assert (await theirs.status()).status == "waiting"
    assert (await theirs.history()).events == []


async def test_plans_of_one_agent_are_invisible_to_another(engine: ad.Engine) -> None:
    agent_a = engine.agent("agent-a")
    agent_b = engine.agent("agent-b")
    secret = '''
"""Agent A's private plan."""

async def run(event, step):
    return "secret"
'''
    missing_hash = await outcome(lambda: agent_b.create(
        "0" * 64))  # baseline shape of a missing hash
    assert missing_hash[0] == "PlanNotFound"
    from agents_durable.plans import compile_plan

    expected_hash = compile_plan(secret).hash
    before = {
        "get_plan": await outcome(lambda: agent_b.get_plan("secret")),
        "get_plan by hash": await outcome(lambda: agent_b.get_plan(hash=expected_hash)),
        "create": await outcome(lambda: agent_b.create("secret")),
        "create by hash": await outcome(lambda: agent_b.create(expected_hash)),
        "create_batch": await outcome(lambda: agent_b.create_batch(
            [{"plan": expected_hash, "id": "x"}])),
    }
    assert {kind for kind, _ in before.values()} == {"PlanNotFound"}

    version = await agent_a.register_plan("secret", secret)
    assert version.hash == expected_hash
    after = {
        "get_plan": await outcome(lambda: agent_b.get_plan("secret")),
        "get_plan by hash": await outcome(lambda: agent_b.get_plan(hash=version.hash)),
        "create": await outcome(lambda: agent_b.create("secret")),
        "create by hash": await outcome(lambda: agent_b.create(version.hash)),
        "create_batch": await outcome(lambda: agent_b.create_batch(
            [{"plan": version.hash, "id": "x"}])),
    }
    assert after == before
    with pytest.raises(ad.PlanNotFound):
        await agent_b.create(version)  # A's PlanVersion object
    assert await agent_b.list_plans() == []
    assert (await agent_b.list()).items == []
    assert [v.name for v in await agent_a.list_plans()] == ["secret"]


async def test_each_agent_registering_the_same_source_gets_its_own_version(
        engine: ad.Engine) -> None:
    agent_a = engine.agent("agent-a")
    agent_b = engine.agent("agent-b")
    await agent_a.register_plan("other", QUICK)
    version_a = await agent_a.register_plan("shared", QUICK)
    version_b = await agent_b.register_plan("shared", QUICK)
    assert (version_a.agent_id, version_b.agent_id) == ("agent-a", "agent-b")
    assert version_a.version == version_b.version == 1
    instance = await agent_b.create(version_b.hash, {"n": 1}, id="b-run")
    status = await instance.wait(timeout=10)
    assert status.output == ["agent-b", "b-run", {"n": 1}]
    assert [v.name for v in await agent_b.list_plans()] == ["shared"]


async def test_tools_granted_to_one_agent_are_not_usable_by_another(
        engine: ad.Engine) -> None:
    engine.tools.register("vault.read", lambda: "the secret")
    agent_a = engine.agent("agent-a", tools=["vault.read"])
    agent_b = engine.agent("agent-b")
    source = '''
async def run(event, step):
    return await step.do("read", lambda: tools.vault.read())
'''
    await agent_a.register_plan("reader", source)
    with pytest.raises(ad.PlanRejected):
        await agent_b.register_plan("reader", source)
    status_a = await (await agent_a.create("reader")).wait(timeout=10)
    assert status_a.output == "the secret"
