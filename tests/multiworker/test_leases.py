"""Leases and fencing on the PostgreSQL store, through the ``Store`` protocol itself.

Two stores stand for two worker processes. A lease that expired is taken over by the
other worker's next claim, and from then on every write of the first owner is refused
with ``LeaseLost`` (nothing written), its renewal reports the instance lost, and the new
owner's writes go through. Workers starting at once on a fresh schema migrate it once.
"""

from __future__ import annotations

import anyio
import pytest

import agents_durable as ad
from agents_durable.store import Finish, NewInstance, StepRecord
from agents_durable.store.postgres import PostgresStore, store_for
from tests.conftest import PG_URL, pg_available, pg_schema_url

pytestmark = [pytest.mark.skipif(not pg_available(),
                                 reason=f"no PostgreSQL server answers at {PG_URL}"),
              pytest.mark.anyio]


def worker_store(schema: str, lease: float) -> PostgresStore:
    return store_for(pg_schema_url(schema), lease_seconds=lease)


async def test_an_expired_lease_fences_out_its_old_owner(schema: str) -> None:
    first, second = worker_store(schema, 0.3), worker_store(schema, 30)
    await first.open(worker=True)
    await second.open(worker=True)
    try:
        await first.create_instances([NewInstance("a", "i1", "p", 1, "h", "{}", 1.0)])
        (mine,) = await first.claim_due(2.0, 10)
        await first.record_step(mine.pk, StepRecord(0, "do", "s", 1, "done", result="1"),
                                lease=mine.lease)
        assert await second.claim_due(2.0, 10) == []  # held: not claimable
        await anyio.sleep(0.6)  # past the first lease
        await second.recover(3.0, quarantine_after=5)
        (theirs,) = await second.claim_due(3.0, 10)
        assert theirs.pk == mine.pk and theirs.lease != mine.lease

        with pytest.raises(ad.LeaseLost):
            await first.record_step(mine.pk, StepRecord(1, "do", "t", 1, "done", result="2"),
                                    lease=mine.lease)
        with pytest.raises(ad.LeaseLost):
            await first.finish(mine.pk, Finish("complete", output="1", logs=("zombie",)), 4.0,
                               lease=mine.lease)
        assert await first.renew({mine.pk: mine.lease}) == [mine.pk]
        assert await second.renew({theirs.pk: theirs.lease}) == []

        steps, _, logs = await second.history(theirs.pk)
        assert [s.name for s in steps] == ["s"] and logs == []  # nothing of the zombie's
        await second.record_step(theirs.pk, StepRecord(1, "do", "t", 1, "done", result="3"),
                                 lease=theirs.lease)
        assert await second.finish(theirs.pk, Finish("complete", output="3"), 5.0,
                                   lease=theirs.lease) == "complete"
        record = await second.get_instance("a", "i1")
        assert record is not None and (record.status, record.output) == ("complete", "3")
        assert record.crashes == 0  # its committed step proved it healthy
    finally:
        await first.close()
        await second.close()


async def test_workers_starting_at_once_migrate_a_fresh_schema_once(schema: str) -> None:
    stores = [worker_store(schema, 10) for _ in range(4)]
    async with anyio.create_task_group() as group:
        for store in stores:
            group.start_soon(lambda s=store: s.open(worker=False))
    try:
        await stores[0].create_instances([NewInstance("a", "x", "p", 1, "h", "{}", 1.0)])
        for store in stores:
            assert (await store.get_instance("a", "x")) is not None
    finally:
        for store in stores:
            await store.close()


GATED = '''
async def run(event, step):
    return await step.do("gated", lambda: tools.gate())
'''


async def test_a_worker_that_claims_back_its_own_lost_instance_runs_it_once_at_a_time(
        schema: str) -> None:
    """A live worker too slow to renew (here: its lease is expired by hand) loses the
    instance; its own next claim takes it back while the old activation still waits on a
    tool. The old one can write nothing (its token is stale); its refused write must not
    stop the new activation, and the new one runs alone: the instance completes with the
    second execution's result, with no third execution and no wait for another lease."""
    import threading

    import asyncpg

    gates = [threading.Event(), threading.Event()]
    started: list[int] = []

    def gate() -> int:
        n = len(started)
        started.append(n)
        if n < len(gates):
            gates[n].wait(30)
        return n

    url = pg_schema_url(schema)
    async with ad.Engine.open(url, lease=30, poll_interval=0.05) as engine:
        engine.tools.register("gate", gate)
        scope = engine.agent("a", tools=["gate"])
        await scope.register_plan("p", GATED)
        inst = await scope.create("p", id="i1")

        async def executions(n: int) -> None:
            with anyio.fail_after(20):
                while len(started) < n:
                    await anyio.sleep(0.02)

        await executions(1)
        conn = await asyncpg.connect(PG_URL, server_settings={"search_path": schema})
        try:
            await conn.execute("UPDATE instances SET lease_expires = 0 WHERE id = 'i1'")
        finally:
            await conn.close()
        await executions(2)  # reclaimed and claimed again by this same worker
        gates[0].set()  # the old activation's tool returns: its commit is refused
        await anyio.sleep(0.3)
        gates[1].set()
        with anyio.fail_after(20):
            status = await inst.wait()
        assert (status.status, status.output) == ("complete", 1)
        assert started == [0, 1]


async def test_a_live_owner_that_lost_its_lease_clears_the_crash_it_was_blamed_for(
        schema: str) -> None:
    """An expired lease counts as a crash of its instance (the owner may be dead); when
    the owner renews and learns it lost the lease, it was alive: the instance is no
    suspect any more (unless someone else has claimed it meanwhile)."""
    first, second = worker_store(schema, 0.3), worker_store(schema, 30)
    await first.open(worker=True)
    await second.open(worker=True)
    try:
        await first.create_instances([NewInstance("a", "i1", "p", 1, "h", "{}", 1.0),
                                      NewInstance("a", "i2", "p", 1, "h", "{}", 1.0)])
        mine = await first.claim_due(2.0, 10)
        await anyio.sleep(0.6)  # past the leases
        await second.recover(3.0, quarantine_after=5)
        for id in ("i1", "i2"):
            record = await second.get_instance("a", id)
            assert record is not None and (record.status, record.crashes) == ("queued", 1)
        (taken,) = await second.claim_due(3.0, 1)  # i1 is running on the other worker now
        assert sorted(await first.renew({r.pk: r.lease for r in mine})) == \
            sorted(r.pk for r in mine)
        left = await second.get_instance("a", "i2" if taken.id == "i1" else "i1")
        assert left is not None and (left.status, left.crashes) == ("queued", 0)
        again = await second.get_instance("a", taken.id)
        assert again is not None and again.crashes == 1  # its new owner probes it still
    finally:
        await first.close()
        await second.close()


async def test_renewals_do_not_wait_for_a_busy_pool(schema: str) -> None:
    """Every pooled connection is busy (slow queries of many activations): the renewal
    still goes through, on the worker's own LISTEN connection."""
    store = store_for(pg_schema_url(schema), lease_seconds=30, pool_size=2)
    await store.open(worker=True)
    try:
        await store.create_instances([NewInstance("a", "i1", "p", 1, "h", "{}", 1.0)])
        (mine,) = await store.claim_due(2.0, 10)
        pool = store._pool
        held = [await pool.acquire(), await pool.acquire()]
        try:
            with anyio.fail_after(5):
                assert await store.renew({mine.pk: mine.lease}) == []
        finally:
            for conn in held:
                await pool.release(conn)
    finally:
        await store.close()
