"""Keeping the leases of the instances this worker runs (stores whose leases expire).

Every ``lease_seconds / 3`` real seconds the engine renews, in one store call, the lease
of every instance it runs and of every end it still has to write. A lease the store
reports lost (it expired, and another worker claimed the instance) stops that activation
at once: its writes would be refused anyway (fencing), so it is cancelled rather than
left to run tools whose results can no longer be committed.

Renewing at a third of the lease leaves two renewals of slack: a renewal that fails (the
database is briefly unreachable) is retried at the next tick, and only three missed
renewals in a row let another worker take the instance. The renewal clock is real time
(``time.monotonic``), never the engine's clock: a ``FakeClock`` moves plan time, while
leases guard against real processes that stopped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio

from agents_durable.engine._store_guard import is_store_failure

if TYPE_CHECKING:
    from agents_durable.engine._engine import Engine

__all__ = ["keep_leases"]

logger = logging.getLogger("agents_durable")


async def keep_leases(engine: Engine, lease_seconds: float) -> None:
    """Run until cancelled: renew ``engine``'s leases, stop the activations that lost one."""
    interval = lease_seconds / 3
    while True:
        await anyio.sleep(interval)
        leases = engine.held_leases()
        if not leases:
            continue
        try:
            lost = await engine.store.renew(leases)
        except Exception as error:
            if not is_store_failure(error):
                raise
            logger.warning("could not renew %d lease(s) (%s); retrying in %.1f s",
                           len(leases), error, interval)
            continue
        for pk in lost:
            engine.lease_lost(pk)
