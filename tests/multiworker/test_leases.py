"""Leases and fencing on the PostgreSQL store, through the ``Store`` protocol itself.

Two stores stand for two worker processes. A lease that expired is taken over by the
other worker's next claim, and from then on every write of the first owner is refused
with ``LeaseLost`` (nothing written), its renewal reports the instance lost, and the new
owner's writes go through. Workers starting at once on a fresh schema migrate it once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import anyio
import pytest

import agents_durable as ad
from agents_durable.store import Finish, NewInstance, StepRecord
from agents_durable.store.postgres import PostgresStore, store_for
from tests.conftest import PG_URL, drop_schema, pg_available, pg_schema_url

pytestmark = [pytest.mark.skipif(not pg_available(),
                                 reason=f"no PostgreSQL server answers at {PG_URL}"),
              pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name = f"ls_{uuid.uuid4().hex[:16]}"
    try:
        yield name
    finally:
        await drop_schema(name)


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
