"""The SQLite store read paths the scheduler batches agree with the one-by-one paths."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

PLAN = '''
async def run(event, step):
    first = await step.do("first", lambda: event.payload["n"])
    got = await step.wait_for_event("go", type="go", timeout="1 day")
    return [first, got["payload"]]
'''


async def test_load_journals_matches_load_journal(engine, clock) -> None:
    agent = engine.agent("a")
    await agent.register_plan("p", PLAN)
    handles = [await agent.create("p", {"n": n}, id=f"i{n}") for n in range(3)]
    await clock.settle()
    await handles[0].send_event("go", {"x": 1})
    await handles[0].send_event("other", {"y": 2})
    await handles[2].send_event("unrelated", None)
    await clock.settle()
    store = engine.store
    pks = [(await store.get_instance("a", h.id)).pk for h in handles]
    batched = await store.load_journals(pks)
    for pk in pks:
        single = await store.load_journal(pk)
        assert batched[pk].steps == single.steps
        assert batched[pk].events == single.events
        assert batched[pk].last_event_seq == single.last_event_seq
    assert [len(batched[pk].steps) for pk in pks] == [2, 2, 2]
    assert [e.type for e in batched[pks[0]].events] == ["other"]  # "go" was consumed
    assert batched[pks[1]].last_event_seq == 0
    assert (await handles[0].wait(timeout=10)).output == [0, {"x": 1}]
