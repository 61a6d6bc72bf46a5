"""Two workers on one PostgreSQL database fire each schedule slot exactly once: both see
the same slots come due on a shared fake clock and race for them."""

from __future__ import annotations

import datetime as dt

import anyio
import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.conftest import PG_URL, pg_available

pytestmark = [pytest.mark.skipif(not pg_available(),
                                 reason=f"no PostgreSQL server answers at {PG_URL}"),
              pytest.mark.anyio]

QUICK = '''
async def run(event, step):
    return event.timestamp.isoformat()
'''


async def test_two_workers_fire_each_slot_once(url: str) -> None:
    clock = FakeClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    async with ad.Engine.open(url, clock=clock, poll_interval=0.02) as first, \
            ad.Engine.open(url, clock=clock, poll_interval=0.02) as second:
        for engine in (first, second):
            await engine.agent("ops").register_plan("report", QUICK)
        await first.agent("ops").schedule("tick", "report", cron="*/5 * * * *",
                                          catch_up="all", overlap="allow")
        for _ in range(12):
            await clock.advance("5 minutes")
        agent = second.agent("ops")
        with anyio.fail_after(30):
            while len((await agent.list(status="complete", limit=100)).items) < 12:
                await clock.advance("1 second")
        items = (await agent.list(plan="report", limit=100)).items
    minutes = sorted(s.created.strftime("%H:%M") for s in items)
    assert minutes == [f"{m // 60:02d}:{m % 60:02d}" for m in range(5, 61, 5)]
    assert {s.status for s in items} == {"complete"}

