"""PostgreSQL statements for child instances: the twins of ``_sqlite_children.py``.

``start_child`` creates a child idempotently (the same id under the same parent is the same
child, even when two activations of the parent race after a lost lease); ``instance_ended``
runs inside the transaction that ends an instance: it delivers the end to the parent as a
``CHILD_EVENT`` (waking it) and terminates the instance's active children that do not
outlive it, recursively.
"""

from __future__ import annotations

import json
from typing import Any

from agents_durable.errors import InstanceExists, InstanceNotFound
from agents_durable.store._decode import child_result
from agents_durable.store._pg_schema import notify
from agents_durable.store._records import CHILD_EVENT, TERMINAL_STATUSES, NewInstance

__all__ = ["instance_ended", "start_child"]

_TERMINAL = sorted(TERMINAL_STATUSES)


async def start_child(conn: Any, parent_pk: int, new: NewInstance, keep: bool,
                      channel: str) -> bool:
    """Create ``new`` as a child of ``parent_pk``, queued now; False if it exists already."""
    async with conn.transaction():
        if await conn.fetchval("SELECT 1 FROM instances WHERE pk = $1", parent_pk) is None:
            raise InstanceNotFound(f"#{parent_pk}")
        pk = await conn.fetchval(
            "INSERT INTO instances (agent_id, id, plan_name, plan_version, plan_hash, "
            "params, status, created_at, updated_at, wake_at, parent_pk, on_parent_end) "
            "VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $7, $7, $8, $9) "
            "ON CONFLICT (agent_id, id) DO NOTHING RETURNING pk",
            new.agent_id, new.id, new.plan_name, new.plan_version, new.plan_hash,
            new.params, new.created_at, parent_pk, "keep" if keep else "terminate")
        if pk is not None:
            await conn.execute(notify(channel))
            return True
        owner = await conn.fetchval("SELECT parent_pk FROM instances WHERE agent_id = $1 "
                                    "AND id = $2", new.agent_id, new.id)
        if owner != parent_pk:
            raise InstanceExists(new.id)
        return False


async def instance_ended(conn: Any, pk: int, status: str, now: float) -> None:
    """Instance ``pk`` just became ``status`` (terminal), in the caller's transaction."""
    row = await conn.fetchrow("SELECT id, parent_pk, output, error FROM instances "
                              "WHERE pk = $1", pk)
    if row is None:
        return
    id, parent_pk, output, error = row
    if parent_pk is not None:
        parent = await conn.fetchval("SELECT status FROM instances WHERE pk = $1 "
                                     "FOR NO KEY UPDATE", parent_pk)
        if parent is not None and parent not in TERMINAL_STATUSES:
            payload = json.dumps({"id": id, "status": status,
                                  "output": child_result(output), "error": child_result(error)})
            await conn.execute("INSERT INTO events (instance_pk, type, payload, created_at) "
                               "VALUES ($1, $2, $3, $4)", parent_pk, CHILD_EVENT, payload,
                               now)
            if parent == "waiting":
                await conn.execute("UPDATE instances SET wake_at = $1, updated_at = $1 "
                                   "WHERE pk = $2", now, parent_pk)
    children = await conn.fetch(
        "SELECT pk, status FROM instances WHERE parent_pk = $1 AND on_parent_end = "
        "'terminate' AND NOT (status = ANY($2::text[])) ORDER BY pk FOR NO KEY UPDATE",
        pk, _TERMINAL)
    for child_pk, child_status in children:
        detail = json.dumps({"was": child_status, "by_parent": id,
                             **({"deferred": True} if child_status == "running" else {})})
        await conn.execute("INSERT INTO audit (instance_pk, at, action, detail) "
                           "VALUES ($1, $2, 'terminate', $3)", child_pk, now, detail)
        if child_status == "running":  # applied when its activation stops
            await conn.execute("UPDATE instances SET control = 'terminate', updated_at = $1 "
                               "WHERE pk = $2", now, child_pk)
            continue
        await conn.execute("UPDATE instances SET status = 'terminated', wake_at = NULL, "
                           "control = NULL, updated_at = $1 WHERE pk = $2", now, child_pk)
        await instance_ended(conn, child_pk, "terminated", now)
