"""Schedules on a fake clock: slots in a time zone across a DST change, overlap policies,
catch-up after downtime, one instance per slot across restarts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

BERLIN = "Europe/Berlin"

QUICK = '''
async def run(event, step):
    return {"at": event.timestamp.isoformat(), "payload": event.payload}
'''

SLOW = '''
async def run(event, step):
    await step.sleep("work", "90 minutes")
    return "done"
'''


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


async def instances_of(agent: ad.AgentScope, plan: str) -> list[ad.InstanceStatus]:
    items = (await agent.list(plan=plan, limit=1000)).items
    return sorted(items, key=lambda s: s.id)


async def test_daily_slots_follow_the_zone_across_the_spring_dst_change(
        db: str | Path) -> None:
    clock = FakeClock(utc(2026, 3, 27, 12))
    async with ad.Engine.open(db, clock=clock) as engine:
        agent = engine.agent("ops")
        await agent.register_plan("report", QUICK)
        schedule = await agent.schedule("nightly", "report", cron="30 2 * * *",
                                        timezone=BERLIN, params={"kind": "nightly"})
        assert schedule.next_at == utc(2026, 3, 28, 1, 30)  # 02:30 CET
        await clock.advance("4 days")
        fired = await instances_of(agent, "report")
    # 02:30 does not exist on 29 March in Berlin: that slot runs right after the jump
    assert [s.id for s in fired] == ["nightly-20260328T0130Z", "nightly-20260329T0100Z",
                                     "nightly-20260330T0030Z", "nightly-20260331T0030Z"]
    assert all(s.status == "complete" for s in fired)
    assert fired[0].output == {"at": "2026-03-28T01:30:00+00:00",
                               "payload": {"kind": "nightly"}}


async def test_the_autumn_repeated_hour_fires_once(db: str | Path) -> None:
    clock = FakeClock(utc(2026, 10, 24, 12))
    async with ad.Engine.open(db, clock=clock) as engine:
        agent = engine.agent("ops")
        await agent.register_plan("report", QUICK)
        await agent.schedule("hourly", "report", cron="30 * * * *", timezone=BERLIN)
        await clock.advance("1 day")
        fired = await instances_of(agent, "report")
    # 24 real hours hold 24 slots even on the day Berlin's clock shows 02:30 twice
    assert len(fired) == 24
    assert len({s.id for s in fired}) == 24


async def test_overlap_skip_queue_and_allow(db: str | Path) -> None:
    clock = FakeClock(utc(2026, 1, 1))
    async with ad.Engine.open(db, clock=clock) as engine:
        agent = engine.agent("ops")
        await agent.register_plan("slow", SLOW)
        for overlap in ("skip", "queue", "allow"):
            await agent.schedule(overlap, "slow", cron="0 * * * *", overlap=overlap)
        await clock.advance("3 hours")  # slots at 01:00, 02:00, 03:00; each run 90 min
        runs = {overlap: [s for s in await instances_of(agent, "slow")
                          if s.id.startswith(overlap + "-")]
                for overlap in ("skip", "queue", "allow")}
    created = {k: [s.created.strftime("%H:%M") for s in v] for k, v in runs.items()}
    # skip: 02:00 came while 01:00 ran and was dropped; 03:00 found it done
    assert created["skip"] == ["01:00", "03:00"]
    # queue: 02:00 waited for 01:00 to end (02:30) and ran then, marked with its slot
    assert created["queue"] == ["01:00", "02:00"]
    queued = runs["queue"][1]
    assert queued.status == "waiting"  # started at 02:30, sleeps until 04:00
    assert created["allow"] == ["01:00", "02:00", "03:00"]


async def test_catch_up_after_downtime(db: str | Path) -> None:
    clock = FakeClock(utc(2026, 1, 1))
    path = db
    async with ad.Engine.open(path, clock=clock) as engine:
        agent = engine.agent("ops")
        await agent.register_plan("report", QUICK)
        for policy in ("none", "latest", "all"):
            # overlap="allow": caught-up slots start together (skip would keep one)
            await agent.schedule(f"c-{policy}", "report", cron="0 */6 * * *",
                                 catch_up=policy, overlap="allow")
    await clock.advance("25 hours")  # no engine: slots at 06, 12, 18 and 00 are missed
    async with ad.Engine.open(path, clock=clock) as engine:
        agent = engine.agent("ops")
        await clock.advance("1 minute")
        fired = await instances_of(agent, "report")
        ids = {policy: [s.id for s in fired if s.id.startswith(f"c-{policy}-")]
               for policy in ("none", "latest", "all")}
        assert ids["none"] == []
        assert ids["latest"] == ["c-latest-20260102T0000Z"]
        assert ids["all"] == ["c-all-20260101T0600Z", "c-all-20260101T1200Z",
                              "c-all-20260101T1800Z", "c-all-20260102T0000Z"]
        await clock.advance("6 hours")  # on time again: every policy fires the 06:00 slot
        fired = await instances_of(agent, "report")
    assert sum(s.id.endswith("20260102T0600Z") for s in fired) == 3


async def test_each_slot_starts_one_instance_across_restarts(db: str | Path) -> None:
    clock = FakeClock(utc(2026, 1, 1))
    path = db
    for _ in range(3):
        async with ad.Engine.open(path, clock=clock) as engine:
            agent = engine.agent("ops")
            await agent.register_plan("report", QUICK)
            if not await agent.schedules():
                await agent.schedule("tick", "report", cron="*/10 * * * *",
                                     catch_up="all")
            await clock.advance("25 minutes")
    async with ad.Engine.open(path, clock=clock) as engine:
        fired = await instances_of(engine.agent("ops"), "report")
    minutes = [s.created.strftime("%H:%M") for s in fired]
    assert minutes == ["00:10", "00:20", "00:30", "00:40", "00:50", "01:00", "01:10"]


async def test_schedules_are_listed_paused_resumed_and_deleted(engine: ad.Engine,
                                                               clock: FakeClock) -> None:
    agent = engine.agent("ops")
    await agent.register_plan("report", QUICK)
    await agent.schedule("tick", "report", cron="0 * * * *")
    assert [s.name for s in await agent.schedules()] == ["tick"]
    paused = await agent.pause_schedule("tick")
    assert paused.paused and paused.next_at is None
    await clock.advance("3 hours")
    assert await instances_of(agent, "report") == []
    resumed = await agent.resume_schedule("tick")
    assert resumed.next_at == utc(2026, 1, 1, 4)
    await clock.advance("1 hour")
    assert [s.id for s in await instances_of(agent, "report")] == ["tick-20260101T0400Z"]
    await agent.delete_schedule("tick")
    assert await agent.schedules() == []
    await clock.advance("2 hours")
    assert len(await instances_of(agent, "report")) == 1
    # another agent sees none of it
    assert await engine.agent("other").schedules() == []


async def test_bad_schedules_are_refused(engine: ad.Engine) -> None:
    agent = engine.agent("ops")
    await agent.register_plan("report", QUICK)
    with pytest.raises(ad.UsageError, match="cron expression"):
        await agent.schedule("bad", "report", cron="61 * * * *")
    with pytest.raises(ad.UsageError, match="unknown timezone"):
        await agent.schedule("bad", "report", cron="0 * * * *", timezone="Mars/Olympus")
    with pytest.raises(ad.UsageError, match="overlap"):
        await agent.schedule("bad", "report", cron="0 * * * *", overlap="sometimes")
    with pytest.raises(ad.PlanNotFound):
        await agent.schedule("bad", "nope", cron="0 * * * *")
    with pytest.raises(ad.UsageError, match="no schedule"):
        await agent.pause_schedule("ghost")


async def test_a_schedule_added_while_the_scheduler_reads_the_schedules_fires(
        db: str | Path) -> None:
    """The scheduler's read of the next slot, begun before the schedule existed, must not
    overwrite the news that a schedule was added while the read was in flight."""
    clock = FakeClock(utc(2026, 1, 1))
    async with ad.Engine.open(db, clock=clock, poll_interval=3600) as engine:
        agent = engine.agent("ops")
        await agent.register_plan("report", QUICK)
        store = engine.store
        read = store.next_schedule_at
        reading, added = anyio.Event(), anyio.Event()

        async def read_then_stall() -> float | None:
            result = await read()
            if not added.is_set():
                reading.set()
                await added.wait()
            return result

        store.next_schedule_at = read_then_stall  # type: ignore[method-assign]
        engine.schedules_changed()
        await reading.wait()
        await agent.schedule("hourly", "report", cron="0 * * * *")
        added.set()
        await clock.advance("2 hours")
        fired = await instances_of(agent, "report")
    assert [s.id for s in fired] == ["hourly-20260101T0100Z", "hourly-20260101T0200Z"]
