"""Pause, resume, terminate and restart (SPEC 4) through the public API, with a fake
clock."""

from __future__ import annotations

import datetime as dt

import anyio
import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.engine.instance_helpers import QUICK, SLEEPER, Counter, scope

pytestmark = pytest.mark.anyio


# -- pause / resume --------------------------------------------------------------------------

NAP_THREE_DAYS = '''
async def run(event, step):
    await step.sleep("long nap", "3 days")
    return (await step.now()).isoformat()
'''


async def test_pause_during_a_sleep_keeps_the_remaining_time(engine: ad.Engine,
                                                             clock: FakeClock) -> None:
    start = clock.datetime()
    agent = await scope(engine, ("nap", NAP_THREE_DAYS))
    instance = await agent.create("nap", id="napper")
    await clock.advance("1 day")
    await instance.pause()
    assert (await instance.status()).status == "paused"
    await clock.advance("5 days")  # the sleep's original due time (day 3) passes
    assert (await instance.status()).status == "paused"
    await instance.resume()  # day 6: two days of the sleep remain
    await clock.advance("47 hours")
    assert (await instance.status()).status == "waiting"
    await clock.advance("1 hour")
    status = await instance.wait(timeout=10)
    assert status.status == "complete"
    assert status.output == (start + dt.timedelta(days=8)).isoformat()


async def test_pause_right_after_create_then_resume(engine: ad.Engine,
                                                   clock: FakeClock) -> None:
    agent = await scope(engine, ("sleeper", SLEEPER))
    instance = await agent.create("sleeper", {"x": 4})
    await instance.pause()  # whether or not an activation claimed it yet
    await clock.advance("3 days")
    assert (await instance.status()).status == "paused"
    await instance.resume()
    await clock.settle()
    assert (await instance.status()).status == "waiting"
    await clock.advance("1 day")
    assert (await instance.wait(timeout=10)).output == {"x": 4}


async def test_pause_while_a_step_runs_is_cooperative(engine: ad.Engine,
                                                      clock: FakeClock) -> None:
    entered = anyio.Event()
    release = anyio.Event()
    calls: list[str] = []

    async def slow() -> str:
        calls.append("slow")
        entered.set()
        await release.wait()
        return "slow done"

    def after() -> str:
        calls.append("after")
        return "after done"

    engine.tools.register("slow", slow)
    engine.tools.register("after", after)
    agent = await scope(engine, tools=("slow", "after"))
    await agent.register_plan("two", '''
async def run(event, step):
    a = await step.do("slow", lambda: tools.slow())
    b = await step.do("after", lambda: tools.after())
    return [a, b]
''')
    instance = await agent.create("two")
    with anyio.fail_after(10):
        await entered.wait()
    await instance.pause()
    assert (await instance.status()).status == "waiting_for_pause"
    assert [s.id for s in (await agent.list(status="waiting_for_pause")).items] == [instance.id]
    assert (await agent.list(status="paused")).items == []
    release.set()
    with anyio.fail_after(10):
        while (await instance.status()).status != "paused":
            await anyio.sleep(0.01)
    await clock.advance("1 day")
    status = await instance.status()
    assert status.status == "paused"
    assert [(s.name, s.state, s.result) for s in status.steps] == [
        ("slow", "done", "slow done")]
    assert calls == ["slow"]
    await instance.resume()
    final = await instance.wait(timeout=10)
    assert final.output == ["slow done", "after done"]
    assert calls == ["slow", "after"]


async def test_resume_while_waiting_for_pause_cancels_the_pause(engine: ad.Engine) -> None:
    entered = anyio.Event()
    release = anyio.Event()

    async def slow() -> int:
        entered.set()
        await release.wait()
        return 1

    engine.tools.register("slow", slow)
    agent = await scope(engine, tools=("slow",))
    await agent.register_plan("two", '''
async def run(event, step):
    a = await step.do("slow", lambda: tools.slow())
    b = await step.do("next", lambda: a + 1)
    return b
''')
    instance = await agent.create("two")
    with anyio.fail_after(10):
        await entered.wait()
    await instance.pause()
    await instance.resume()
    release.set()
    assert (await instance.wait(timeout=10)).output == 2


async def test_pause_during_an_event_wait_keeps_its_timeout(engine: ad.Engine,
                                                            clock: FakeClock) -> None:
    agent = await scope(engine)
    await agent.register_plan("waiter", '''
async def run(event, step):
    try:
        await step.wait_for_event("reply", type="go", timeout="2 days")
    except EventTimeout:
        return (await step.now()).isoformat()
    return "got it"
''')
    start = clock.datetime()
    instance = await agent.create("waiter")
    await clock.advance("1 day")
    await instance.pause()
    await clock.advance("10 days")
    await instance.resume()  # day 11: one day of the timeout remains
    await clock.advance("23 hours")
    assert (await instance.status()).status == "waiting"
    await clock.advance("1 hour")
    status = await instance.wait(timeout=10)
    assert status.output == (start + dt.timedelta(days=12)).isoformat()


# -- terminate -------------------------------------------------------------------------------


async def test_terminate_a_waiting_instance(engine: ad.Engine, clock: FakeClock) -> None:
    agent = await scope(engine, ("sleeper", SLEEPER))
    instance = await agent.create("sleeper", id="doomed")
    await clock.settle()
    await instance.terminate()
    status = await instance.wait(timeout=10)
    assert status.status == "terminated"
    await clock.advance("2 days")  # the sleep's timer must not revive it
    assert (await instance.status()).status == "terminated"
    with pytest.raises(ad.InstanceNotActive, match="terminated"):
        await instance.terminate()


async def test_terminate_while_a_step_runs(engine: ad.Engine, clock: FakeClock) -> None:
    entered = anyio.Event()
    release = anyio.Event()
    after_calls: list[int] = []

    async def slow() -> int:
        entered.set()
        await release.wait()
        return 1

    engine.tools.register("slow", slow)
    engine.tools.register("after", lambda: after_calls.append(1) or 2)
    agent = await scope(engine, tools=("slow", "after"))
    await agent.register_plan("two", '''
async def run(event, step):
    await step.do("slow", lambda: tools.slow())
    return await step.do("after", lambda: tools.after())
''')
    instance = await agent.create("two")
    with anyio.fail_after(10):
        await entered.wait()
    await instance.terminate()
    release.set()
    status = await instance.wait(timeout=10)
    assert status.status == "terminated"
    assert after_calls == []


async def test_operations_on_a_finished_instance_raise_not_active(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    instance = await agent.create("quick", {"x": 1}, id="done")
    assert (await instance.wait(timeout=10)).status == "complete"
    for operation in (instance.terminate, instance.pause, instance.resume):
        with pytest.raises(ad.InstanceNotActive) as caught:
            await operation()
        assert "complete" in str(caught.value)
    with pytest.raises(ad.InstanceNotActive, match="complete"):
        await instance.send_event("late", {"x": 1})
    assert (await instance.status()).status == "complete"


async def test_send_event_to_a_terminated_instance_raises(engine: ad.Engine,
                                                          clock: FakeClock) -> None:
    agent = await scope(engine, ("sleeper", SLEEPER))
    instance = await agent.create("sleeper")
    await instance.terminate()
    with pytest.raises(ad.InstanceNotActive, match="terminated"):
        await instance.send_event("anything")


# -- restart ---------------------------------------------------------------------------------

THREE_STEPS = '''
async def run(event, step):
    a = await step.do("a", lambda: tools.count("a"))
    b = await step.do("b", lambda: tools.count("b"))
    c = await step.do("c", lambda: tools.count("c"))
    return [a, b, c]
'''


async def test_restart_from_the_top(engine: ad.Engine) -> None:
    counter = Counter()
    engine.tools.register("count", counter)
    agent = await scope(engine, ("three", THREE_STEPS), tools=("count",))
    instance = await agent.create("three", {"same": "params"}, id="again")
    assert (await instance.wait(timeout=10)).output == [1, 1, 1]
    await instance.restart()
    status = await instance.wait(timeout=10)
    assert status.status == "complete"
    assert status.output == [2, 2, 2]
    assert counter.calls == {"a": 2, "b": 2, "c": 2}
    assert [s.attempts for s in status.steps] == [1, 1, 1]


async def test_restart_from_a_step_keeps_earlier_results(engine: ad.Engine) -> None:
    counter = Counter()
    engine.tools.register("count", counter)
    agent = await scope(engine, ("three", THREE_STEPS), tools=("count",))
    instance = await agent.create("three", id="partial")
    assert (await instance.wait(timeout=10)).output == [1, 1, 1]
    await instance.restart(from_step=("b", 1))
    status = await instance.wait(timeout=10)
    assert status.output == [1, 2, 2]
    assert counter.calls == {"a": 1, "b": 2, "c": 2}


async def test_restart_from_a_later_occurrence(engine: ad.Engine) -> None:
    counter = Counter()
    engine.tools.register("count", counter)
    agent = await scope(engine, tools=("count",))
    await agent.register_plan("loop", '''
async def run(event, step):
    out = []
    for i in range(3):
        out.append(await step.do("item", lambda: tools.count("item" + str(i))))
    return out
''')
    instance = await agent.create("loop")
    assert (await instance.wait(timeout=10)).output == [1, 1, 1]
    await instance.restart(from_step=("item", 2))
    status = await instance.wait(timeout=10)
    assert status.output == [1, 2, 2]
    assert counter.calls == {"item0": 1, "item1": 2, "item2": 2}


async def test_restart_from_an_unknown_step_is_refused(engine: ad.Engine) -> None:
    counter = Counter()
    engine.tools.register("count", counter)
    agent = await scope(engine, ("three", THREE_STEPS), tools=("count",))
    instance = await agent.create("three")
    await instance.wait(timeout=10)
    with pytest.raises(ad.UsageError, match="nope"):
        await instance.restart(from_step=("nope", 1))
    with pytest.raises(ad.UsageError):
        await instance.restart(from_step=("b", 2))
    assert counter.calls == {"a": 1, "b": 1, "c": 1}


async def test_restart_redelivers_events_consumed_after_the_restart_point(
        engine: ad.Engine, clock: FakeClock) -> None:
    counter = Counter()
    engine.tools.register("count", counter)
    agent = await scope(engine, tools=("count",))
    await agent.register_plan("evented", '''
async def run(event, step):
    first = await step.do("first", lambda: tools.count("first"))
    reply = await step.wait_for_event("reply", type="answer", timeout="1 day")
    return [first, reply["payload"]]
''')
    instance = await agent.create("evented")
    await clock.settle()
    await instance.send_event("answer", "yes")
    assert (await instance.wait(timeout=10)).output == [1, "yes"]
    await instance.restart(from_step=("reply", 1))
    status = await instance.wait(timeout=10)
    assert status.output == [1, "yes"]
    assert counter.calls == {"first": 1}


async def test_restart_a_sleeping_instance_from_the_top(engine: ad.Engine,
                                                        clock: FakeClock) -> None:
    counter = Counter()
    engine.tools.register("count", counter)
    agent = await scope(engine, tools=("count",))
    await agent.register_plan("sleepy", '''
async def run(event, step):
    n = await step.do("count", lambda: tools.count("n"))
    await step.sleep("nap", "1 day")
    return n
''')
    instance = await agent.create("sleepy")
    await clock.advance("12 hours")
    await instance.restart()
    await clock.settle()
    assert counter.calls == {"n": 2}
    await clock.advance("23 hours")
    assert (await instance.status()).status == "waiting"  # the nap started over
    await clock.advance("1 hour")
    assert (await instance.wait(timeout=10)).output == 2
