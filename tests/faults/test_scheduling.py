"""One agent never stalls another (finding 3), errors leave ``Engine.open`` as themselves
(finding 5), a worker runs only what it has the tools for (finding 6), and claims go in
due order with recovered work first (finding 7)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

HANG = '''
async def run(event, step):
    return await step.do("hang", lambda: tools.hang(), retries={"limit": 0},
                         timeout="1 hour")
'''
QUICK = '''
async def run(event, step):
    return await step.do("quick", lambda: tools.quick(event.payload["n"]))
'''


async def test_hung_tools_of_one_agent_do_not_delay_another(tmp_path: Path) -> None:
    release = threading.Event()
    entered: list[int] = []
    lock = threading.Lock()
    busy = [0, 0]  # threads of agent "noisy" in the tool now, and the most at once

    def hang() -> None:
        with lock:
            busy[0] += 1
            busy[1] = max(busy)
            entered.append(1)
        try:
            release.wait(60)
        finally:
            with lock:
                busy[0] -= 1

    clock = FakeClock(hung_after=60)
    async with ad.Engine.open(tmp_path / "fair.db", clock=clock, concurrency=4,
                              tool_threads_per_agent=2, stall_after=0.2) as engine:
        engine.tools.register("hang", hang)
        engine.tools.register("quick", lambda n: n * 2)
        noisy = engine.agent("noisy", tools=["hang"])
        calm = engine.agent("calm", tools=["quick"])
        await noisy.register_plan("hang", HANG)
        await calm.register_plan("quick", QUICK)
        stuck = await noisy.create_batch([{"plan": "hang", "id": f"h{n}"} for n in range(8)])
        with anyio.fail_after(10):
            while len(entered) < 2:
                await anyio.sleep(0.01)
        try:
            # every place of "noisy" is taken by a hung tool; "calm" runs all the same
            quick = [await calm.create("quick", {"n": n}) for n in range(6)]
            outputs = [(await q.wait(timeout=10)).output for q in quick]
            assert outputs == [0, 2, 4, 6, 8, 10]
            assert busy[1] == 2  # the per-agent thread cap held

            # terminate cancels a hung step at once: the instance ends terminated
            for handle in stuck:
                await handle.terminate()
            statuses = [await h.wait(timeout=10) for h in stuck]
            assert {s.status for s in statuses} == {"terminated"}
        finally:
            release.set()


async def test_a_tool_that_blocks_the_loop_is_named_and_timed_out(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def blocker() -> str:
        time.sleep(1.2)  # noqa: ASYNC251 - blocks the loop on purpose: no timer can fire
        return "late"

    source = '''
async def run(event, step):
    try:
        return await step.do("slow call", lambda: tools.blocker(),
                             retries={"limit": 0}, timeout=0.4)
    except StepFailed as failure:
        return failure.cause
'''
    with caplog.at_level(logging.WARNING, "agents_durable"):
        async with ad.Engine.open(tmp_path / "block.db", poll_interval=0.05) as engine:
            engine.tools.register("blocker", blocker)
            agent = engine.agent("agent-a", tools=["blocker"])
            await agent.register_plan("p", source)
            status = await (await agent.create("p", id="blocky")).wait(timeout=20)
    assert (status.status, status.output) == ("complete", "TimeoutError")
    warnings = [r.getMessage() for r in caplog.records if "blocked" in r.getMessage()]
    assert warnings, "the blocked loop was not reported"
    assert "tool 'blocker'" in warnings[0] and "slow call" in warnings[0]
    assert "agent-a/blocky" in warnings[0]


async def test_errors_from_the_block_leave_as_themselves(tmp_path: Path) -> None:
    path = tmp_path / "twice.db"
    source = "async def run(event, step):\n    return 1\n"
    for attempt in range(2):
        try:
            async with ad.Engine.open(path, clock=FakeClock()) as engine:
                agent = engine.agent("agent-a")
                await agent.register_plan("p", source)
                await agent.create("p", id="only-once")
                await agent.get("missing")
        except ad.InstanceNotFound as error:  # the first run gets this far
            assert attempt == 0 and error.instance_id == "missing"
        except ad.InstanceExists as error:  # a second run: the id is taken
            assert attempt == 1 and error.instance_id == "only-once"
            assert type(error) is ad.InstanceExists
        else:
            raise AssertionError("no error")


async def test_a_worker_claims_only_what_it_has_the_tools_for(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "tools.db"
    clock = FakeClock()
    async with ad.Engine.open(path, worker=False, clock=clock) as client:
        client.tools.register("quick", lambda n: n)
        agent = client.agent("agent-a", tools=["quick"])
        await agent.register_plan("quick", QUICK)
        await agent.register_plan("none", "async def run(event, step):\n    return 'ok'\n")
        await agent.create("quick", {"n": 4}, id="needs-tool")
        await agent.create("none", id="no-tools")
    calls: list[int] = []
    with caplog.at_level(logging.WARNING, "agents_durable"):
        async with ad.Engine.open(path, clock=clock) as worker:
            agent = worker.agent("agent-a")  # the tool is neither registered nor granted
            assert (await (await agent.get("no-tools")).wait(timeout=10)).output == "ok"
            for _ in range(3):
                await clock.advance("1 hour")
            needs = await agent.get("needs-tool")
            status = await needs.status()
            assert (status.status, status.steps, status.error) == ("queued", [], None)
            # registered but not granted: still left alone
            worker.tools.register("quick", lambda n: calls.append(n) or n * 3)
            await clock.advance("1 hour")
            assert (await needs.status()).status == "queued"
            worker.agent("agent-a", tools=["quick"])  # granted: it runs
            done = await needs.wait(timeout=10)
    assert (done.status, done.output, calls) == ("complete", 12, [4])
    left = [r.getMessage() for r in caplog.records if "another worker" in r.getMessage()]
    assert len(left) == 1 and "'quick'" in left[0]  # logged once per plan


#: Sleeps until its ``due`` param, then notes its own id through the ``note`` tool.
DUE_THEN_NOTE = '''
async def run(event, step):
    await step.sleep_until("due", event.payload["due"])
    return await step.do("run", lambda: tools.note(event.instance_id))
'''


async def test_claims_go_in_due_order_and_recovered_work_first(tmp_path: Path) -> None:
    path = tmp_path / "order.db"
    clock = FakeClock()
    start = clock.now()
    ran: list[str] = []
    source = DUE_THEN_NOTE
    async with ad.Engine.open(path, clock=clock) as worker:
        worker.tools.register("note", lambda name: name)
        agent = worker.agent("agent-a", tools=["note"])
        await agent.register_plan("p", source)
        # created in an order unrelated to when each is due
        for minutes in (50, 10, 40, 20, 30, 5):
            name = "interrupted" if minutes == 5 else f"due-{minutes:02d}"
            await agent.create("p", {"due": start + minutes * 60}, id=name)
        await clock.settle()
        assert {s.status for s in (await agent.list()).items} == {"waiting"}
    # "interrupted" was claimed when it came due (5 min) and its worker crashed in flight
    with sqlite3.connect(path) as db:
        changed = db.execute("UPDATE instances SET status = 'running' "
                             "WHERE id = 'interrupted'")
        assert changed.rowcount == 1
    await clock.advance("2 hours")  # all of them overdue by the time a worker starts
    async with ad.Engine.open(path, clock=clock, concurrency=1) as worker:
        worker.tools.register("note", lambda name: ran.append(name) or name)
        agent = worker.agent("agent-a", tools=["note"])
        for name in ("interrupted", "due-10", "due-20", "due-30", "due-40", "due-50"):
            await (await agent.get(name)).wait(timeout=10)
    assert ran == ["interrupted", "due-10", "due-20", "due-30", "due-40", "due-50"]


async def test_several_recovered_instances_run_before_a_backlog_in_due_order(
        tmp_path: Path) -> None:
    """A crash left three instances in flight; by the time a worker starts, a backlog that
    became due later is waiting too. The recovered ones keep the due time they were
    claimed at, so they run first, in that order (one at a time: they are on probation)."""
    path = tmp_path / "herd.db"
    clock = FakeClock()
    start = clock.now()
    ran: list[str] = []
    source = DUE_THEN_NOTE
    recovered = {"rec-c": 3, "rec-a": 1, "rec-b": 2}  # name -> minutes until due
    backlog = {f"later-{n:02d}": 10 + n for n in (7, 3, 9, 1, 5, 2, 8, 4, 6, 0)}
    async with ad.Engine.open(path, clock=clock) as worker:
        worker.tools.register("note", lambda name: name)
        agent = worker.agent("agent-a", tools=["note"])
        await agent.register_plan("p", source)
        await agent.create_batch([{"plan": "p", "id": name,
                                   "params": {"due": start + minutes * 60}}
                                  for name, minutes in {**backlog, **recovered}.items()])
        await clock.settle()
        assert {s.status for s in (await agent.list()).items} == {"waiting"}
    with sqlite3.connect(path) as db:  # claimed when due, then the worker crashed
        changed = db.execute("UPDATE instances SET status = 'running' WHERE id LIKE 'rec-%'")
        assert changed.rowcount == 3
    await clock.advance("1 hour")
    async with ad.Engine.open(path, clock=clock, concurrency=1) as worker:
        worker.tools.register("note", lambda name: ran.append(name) or name)
        agent = worker.agent("agent-a", tools=["note"])
        for name in (*recovered, *backlog):
            await (await agent.get(name)).wait(timeout=10)
    assert ran == ["rec-a", "rec-b", "rec-c", *sorted(backlog)]
