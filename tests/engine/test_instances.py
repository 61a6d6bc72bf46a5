"""The instance API of SPEC 4, through ``import agents_durable as ad`` with a fake clock:
ids, batches, listing, status and history, waiting, and events (pause, resume,
terminate and restart are in test_lifecycle.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import anyio
import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.engine.instance_helpers import ID_PATTERN, QUICK, SLEEPER, scope

pytestmark = pytest.mark.anyio


# -- create / ids -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "-leading-dash", "has space", "a/b", "dot.ted", "é",
                                 "x" * 101, "new\nline"])
async def test_invalid_ids_are_refused(engine: ad.Engine, bad: str) -> None:
    agent = await scope(engine, ("quick", QUICK))
    with pytest.raises(ad.InvalidInstanceId) as caught:
        await agent.create("quick", id=bad)
    assert isinstance(caught.value, ad.UsageError)
    listing = await agent.list()
    assert listing.items == []


async def test_non_string_id_is_refused(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    with pytest.raises(ad.InvalidInstanceId):
        await agent.create("quick", id=7)  # type: ignore[arg-type]


@pytest.mark.parametrize("good", ["a", "_x", "A-b_9", "0", "x" * 100, "ends-with-"])
async def test_valid_ids_are_accepted(engine: ad.Engine, good: str) -> None:
    agent = await scope(engine, ("quick", QUICK))
    instance = await agent.create("quick", {"x": 1}, id=good)
    assert instance.id == good
    assert (await instance.wait(timeout=10)).output == 2


async def test_default_ids_are_random_and_valid(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    ids = [(await agent.create("quick")).id for _ in range(5)]
    assert len(set(ids)) == 5
    assert all(ID_PATTERN.match(i) for i in ids)


async def test_duplicate_id_raises_instance_exists(engine: ad.Engine, clock: FakeClock) -> None:
    agent = await scope(engine, ("quick", QUICK), ("sleeper", SLEEPER))
    first = await agent.create("sleeper", {"n": 1}, id="dup")
    with pytest.raises(ad.InstanceExists) as caught:
        await agent.create("quick", {"x": 5}, id="dup")
    assert "dup" in str(caught.value)
    # the first instance is untouched by the failed create
    await clock.advance("2 days")
    status = await first.wait(timeout=10)
    assert status.plan == "sleeper" and status.output == {"n": 1}


# -- create_batch ----------------------------------------------------------------------------


async def test_create_batch_of_one_hundred(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    handles = await agent.create_batch(
        [{"plan": "quick", "params": {"x": i}, "id": f"b{i:03d}"} for i in range(100)])
    assert [h.id for h in handles] == [f"b{i:03d}" for i in range(100)]
    outputs = [(await h.wait(timeout=20)).output for h in handles]
    assert outputs == [2 * i for i in range(100)]


async def test_create_batch_over_one_hundred_is_refused(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    with pytest.raises(ad.UsageError, match="100"):
        await agent.create_batch([{"plan": "quick", "id": f"c{i}"} for i in range(101)])
    assert (await agent.list()).items == []


async def test_create_batch_is_atomic(engine: ad.Engine, clock: FakeClock) -> None:
    agent = await scope(engine, ("quick", QUICK), ("sleeper", SLEEPER))
    await agent.create("sleeper", id="taken")
    batch = [{"plan": "quick", "params": {"x": i}, "id": f"new{i}"} for i in range(5)]
    batch.insert(3, {"plan": "quick", "id": "taken"})
    with pytest.raises(ad.InstanceExists):
        await agent.create_batch(batch)
    await clock.settle()
    listing = await agent.list()
    assert [s.id for s in listing.items] == ["taken"]
    for i in range(5):
        with pytest.raises(ad.InstanceNotFound):
            await agent.get(f"new{i}")


async def test_create_batch_with_a_repeated_id_creates_none(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    with pytest.raises(ad.UsageError):
        await agent.create_batch([{"plan": "quick", "id": "same"},
                                  {"plan": "quick", "id": "other"},
                                  {"plan": "quick", "id": "same"}])
    assert (await agent.list()).items == []


async def test_create_batch_with_an_invalid_id_creates_none(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    with pytest.raises(ad.InvalidInstanceId):
        await agent.create_batch([{"plan": "quick", "id": "fine"},
                                  {"plan": "quick", "id": "not fine"}])
    assert (await agent.list()).items == []


@pytest.mark.parametrize("item", [{"params": {"x": 1}, "id": "no-plan"},
                                  {"plan": "quick", "param": {"x": 1}, "id": "typo"},
                                  ["quick"]])
async def test_create_batch_with_a_malformed_item_creates_none(engine: ad.Engine,
                                                               item: Any) -> None:
    agent = await scope(engine, ("quick", QUICK))
    with pytest.raises(ad.UsageError, match="item 1"):
        await agent.create_batch([{"plan": "quick", "id": "first"}, item])
    assert (await agent.list()).items == []


# -- get / list ------------------------------------------------------------------------------


async def test_get_unknown_id_raises_instance_not_found(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    with pytest.raises(ad.InstanceNotFound, match="nobody"):
        await agent.get("nobody")
    created = await agent.create("quick", id="somebody")
    got = await agent.get("somebody")
    assert got.id == created.id == "somebody"


async def test_list_filters_by_status_and_plan(engine: ad.Engine, clock: FakeClock) -> None:
    agent = await scope(engine, ("quick", QUICK), ("sleeper", SLEEPER))
    for i in range(3):
        await agent.create("sleeper", id=f"s{i}")
    for i in range(4):
        await agent.create("quick", {"x": i}, id=f"q{i}")
    await clock.settle()

    async def ids(**filters: Any) -> list[str]:
        return [s.id for s in (await agent.list(**filters)).items]

    assert await ids(status="waiting") == ["s2", "s1", "s0"]
    assert await ids(status="complete") == ["q3", "q2", "q1", "q0"]
    assert await ids(plan="quick") == ["q3", "q2", "q1", "q0"]
    assert await ids(plan="sleeper", status="waiting") == ["s2", "s1", "s0"]
    assert await ids(plan="sleeper", status="complete") == []
    assert await ids(plan="no-such-plan") == []
    assert await ids() == ["q3", "q2", "q1", "q0", "s2", "s1", "s0"]
    statuses = {s.id: s.status for s in (await agent.list()).items}
    assert statuses["s0"] == "waiting" and statuses["q0"] == "complete"


async def test_list_rejects_an_unknown_status(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    with pytest.raises(ad.UsageError, match="completed"):
        await agent.list(status="completed")


@pytest.mark.parametrize("limit", [1, 7, 25, 26])
async def test_pagination_covers_every_instance_once_newest_first(
        engine: ad.Engine, limit: int) -> None:
    agent = await scope(engine, ("quick", QUICK))
    created = [f"p{i:02d}" for i in range(25)]
    for name in created:
        await agent.create("quick", id=name)
    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        page = await agent.list(limit=limit, cursor=cursor)
        pages += 1
        assert len(page.items) <= limit
        seen.extend(s.id for s in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
        assert pages <= 30, "the cursor never ran out"
    assert seen == list(reversed(created))
    assert pages == -(-25 // limit)


async def test_pagination_with_a_status_filter(engine: ad.Engine, clock: FakeClock) -> None:
    agent = await scope(engine, ("quick", QUICK), ("sleeper", SLEEPER))
    for i in range(10):
        await agent.create("sleeper" if i % 2 else "quick", id=f"m{i}")
    await clock.settle()
    seen: list[str] = []
    cursor = None
    while True:
        page = await agent.list(status="waiting", limit=2, cursor=cursor)
        seen.extend(s.id for s in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["m9", "m7", "m5", "m3", "m1"]


async def test_list_rejects_bad_limit_and_cursor(engine: ad.Engine) -> None:
    agent = await scope(engine, ("quick", QUICK))
    with pytest.raises(ad.UsageError):
        await agent.list(limit=0)
    with pytest.raises(ad.UsageError):
        await agent.list(cursor="not-a-cursor")


# -- status / history / wait -----------------------------------------------------------------


async def test_status_fields_of_a_complete_instance(engine: ad.Engine,
                                                    clock: FakeClock) -> None:
    agent = await scope(engine)
    version = await agent.register_plan("steps", '''
async def run(event, step):
    a = await step.do("first", lambda: 1)
    await step.sleep("rest", "1 hour")
    b = await step.do("second", lambda: a + 1)
    return {"sum": a + b}
''')
    created_at = clock.datetime()
    instance = await agent.create("steps", id="fields")
    queued = await instance.status()
    assert queued.status in ("queued", "running", "waiting")
    await clock.advance("2 hours")
    status = await instance.wait(timeout=10)
    assert status.id == "fields"
    assert status.status == "complete"
    assert status.output == {"sum": 3}
    assert status.error is None
    assert status.plan == "steps"
    assert status.version == version.version == 1
    assert status.plan_hash == version.hash
    assert status.created == created_at
    assert status.updated == created_at + dt.timedelta(hours=1)
    assert [(s.kind, s.name, s.state) for s in status.steps] == [
        ("do", "first", "done"), ("sleep", "rest", "done"), ("do", "second", "done")]
    assert [s.result for s in status.steps if s.kind == "do"] == [1, 2]


async def test_status_of_an_errored_instance_names_error_and_step(engine: ad.Engine) -> None:
    agent = await scope(engine)
    await agent.register_plan("boom", '''
async def run(event, step):
    await step.do("fine", lambda: 1)
    await step.do("explode", lambda: 1 // 0, retries={"limit": 0})
''')
    status = await (await agent.create("boom")).wait(timeout=10)
    assert status.status == "errored"
    assert status.output is None
    assert status.error is not None
    assert status.error.name == "StepFailed"
    assert status.error.step == "explode"
    assert "ZeroDivisionError" in status.error.message


async def test_history_holds_attempts_events_and_logs(engine: ad.Engine,
                                                      clock: FakeClock) -> None:
    failures = {"left": 1}

    def flaky() -> str:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("first try fails")
        return "ok"

    engine.tools.register("flaky", flaky)
    agent = await scope(engine, tools=("flaky",))
    await agent.register_plan("journal", '''
async def run(event, step):
    print("starting", event.payload["n"])
    value = await step.do("flaky", lambda: tools.flaky(),
                          retries={"limit": 2, "delay": "1 minute"})
    reply = await step.wait_for_event("reply", type="answer")
    print("got", reply["payload"])
    return [value, reply["payload"]]
''')
    instance = await agent.create("journal", {"n": 3}, id="hist")
    await clock.advance("2 minutes")
    await instance.send_event("answer", {"yes": True})
    status = await instance.wait(timeout=10)
    assert status.output == ["ok", {"yes": True}]

    history = await instance.history()
    assert history.id == "hist"
    assert history.status.status == "complete"
    flaky_step, reply_step = history.steps
    assert (flaky_step.kind, flaky_step.name, flaky_step.state) == ("do", "flaky", "done")
    assert flaky_step.attempts == 2
    assert [a["attempt"] for a in flaky_step.attempt_log] == [1, 2]
    assert "first try fails" in flaky_step.attempt_log[0]["error"]
    assert "error" not in flaky_step.attempt_log[1]
    assert flaky_step.attempt_log[1]["started"] - flaky_step.attempt_log[0]["ended"] == 60
    assert flaky_step.result == "ok"
    assert (reply_step.kind, reply_step.state) == ("wait_for_event", "done")
    assert reply_step.result["payload"] == {"yes": True}
    assert [(e.type, e.payload, e.consumed_by_step) for e in history.events] == [
        ("answer", {"yes": True}, reply_step.seq)]
    assert [log.line for log in history.logs] == ["starting 3", "got {'yes': True}"]


async def test_wait_times_out_on_a_sleeping_instance(engine: ad.Engine,
                                                     clock: FakeClock) -> None:
    agent = await scope(engine, ("sleeper", SLEEPER))
    instance = await agent.create("sleeper", {"v": 1})
    await clock.settle()
    with pytest.raises(TimeoutError):
        await instance.wait(timeout=0.3)
    await clock.advance("1 day")
    status = await instance.wait(timeout=10)
    assert (status.status, status.output) == ("complete", {"v": 1})


# -- events ----------------------------------------------------------------------------------


async def test_event_sent_before_the_first_activation_is_buffered(engine: ad.Engine,
                                                                 clock: FakeClock) -> None:
    agent = await scope(engine)
    await agent.register_plan("late waiter", '''
async def run(event, step):
    await step.sleep("busy", "3 hours")
    reply = await step.wait_for_event("reply", type="answer", timeout="1 hour")
    return reply["payload"]
''')
    instance = await agent.create("late waiter")
    await instance.send_event("answer", {"early": True})  # before anything ran
    await clock.advance("3 hours")
    status = await instance.wait(timeout=10)
    assert status.output == {"early": True}


async def test_event_sent_while_running_is_buffered_for_a_later_wait(
        engine: ad.Engine, clock: FakeClock) -> None:
    entered = anyio.Event()
    release = anyio.Event()

    async def slow() -> str:
        entered.set()
        await release.wait()
        return "worked"

    engine.tools.register("slow", slow)
    agent = await scope(engine, tools=("slow",))
    await agent.register_plan("busy", '''
async def run(event, step):
    work = await step.do("work", lambda: tools.slow())
    reply = await step.wait_for_event("reply", type="answer", timeout="1 hour")
    return [work, reply["payload"]]
''')
    instance = await agent.create("busy")
    with anyio.fail_after(10):
        await entered.wait()
    assert (await instance.status()).status == "running"
    await instance.send_event("answer", "during the step")
    release.set()
    status = await instance.wait(timeout=10)
    assert status.output == ["worked", "during the step"]


async def test_event_sent_to_a_paused_instance_is_delivered_after_resume(
        engine: ad.Engine, clock: FakeClock) -> None:
    agent = await scope(engine)
    await agent.register_plan("waiter", '''
async def run(event, step):
    reply = await step.wait_for_event("reply", type="answer", timeout="1 day")
    return reply["payload"]
''')
    instance = await agent.create("waiter")
    await clock.settle()
    await instance.pause()
    await instance.send_event("answer", 42)
    await clock.settle()
    assert (await instance.status()).status == "paused"  # the event did not wake it
    await instance.resume()
    assert (await instance.wait(timeout=10)).output == 42


async def test_events_per_type_fifo(engine: ad.Engine, clock: FakeClock) -> None:
    agent = await scope(engine)
    await agent.register_plan("fifo", '''
async def run(event, step):
    await step.sleep("gather mail", "1 hour")
    got = []
    for kind in ["x", "y", "x", "x", "y"]:
        reply = await step.wait_for_event("take " + kind, type=kind, timeout="1 hour")
        got.append(reply["payload"])
    return got
''')
    instance = await agent.create("fifo")
    await clock.settle()
    for type, n in (("x", 1), ("y", 1), ("x", 2), ("y", 2), ("x", 3)):
        await instance.send_event(type, n)
    await clock.advance("2 hours")
    status = await instance.wait(timeout=10)
    assert status.output == [1, 1, 2, 3, 2]


async def test_match_filters_events_and_leaves_others_buffered(engine: ad.Engine,
                                                               clock: FakeClock) -> None:
    agent = await scope(engine)
    await agent.register_plan("match", '''
async def run(event, step):
    mine = await step.wait_for_event("mine", type="order", match={"id": 7, "ok": True},
                                     timeout="1 day")
    other = await step.wait_for_event("other", type="order", timeout="1 day")
    return [mine["payload"], other["payload"]]
''')
    instance = await agent.create("match")
    await clock.settle()
    await instance.send_event("order", {"id": 8, "ok": True})
    await instance.send_event("order", {"id": 7, "ok": False})
    await instance.send_event("order", "not a dict")
    await clock.settle()
    assert (await instance.status()).status == "waiting"  # nothing matched yet
    await instance.send_event("order", {"id": 7, "ok": True, "extra": 1})
    status = await instance.wait(timeout=10)
    assert status.output == [{"id": 7, "ok": True, "extra": 1}, {"id": 8, "ok": True}]
    history = await instance.history()
    consumed = [e.consumed_by_step is not None for e in history.events]
    assert consumed == [True, False, False, True]


async def test_event_timestamp_and_type_are_delivered(engine: ad.Engine,
                                                      clock: FakeClock) -> None:
    agent = await scope(engine)
    await agent.register_plan("stamp", '''
async def run(event, step):
    reply = await step.wait_for_event("reply", type="ping")
    return [reply["type"], reply["timestamp"]]
''')
    instance = await agent.create("stamp")
    await clock.advance("90 minutes")
    sent_at = clock.datetime()
    await instance.send_event("ping")
    status = await instance.wait(timeout=10)
    assert status.output == ["ping", sent_at.isoformat()]


async def test_create_with_a_plan_that_is_not_a_name_or_version_is_a_usage_error(
        engine) -> None:
    agent = engine.agent("a")
    await agent.register_plan("p", "async def run(event, step):\n    return 1\n")
    with pytest.raises(ad.UsageError, match="plan must be a plan name"):
        await agent.create({"name": "p"})
    with pytest.raises(ad.UsageError, match="plan must be a plan name"):
        await agent.create_batch([{"plan": ["p"]}])
    assert (await agent.list()).items == []
