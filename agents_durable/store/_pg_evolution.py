"""PostgreSQL statements for evolving instances in flight: the twins of
``_sqlite_evolution.py`` (upgrade to a verified plan version, fork from a journal prefix).

Each function runs one transaction on a pooled connection. The instance row is locked
(``FOR NO KEY UPDATE``) before the journal is compared with the verified one, so an
activation claimed on another worker meanwhile (``running``) or one that committed a step
since (a different fingerprint) leaves the instance as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agents_durable.errors import InstanceExists, InstanceNotActive, InstanceNotFound
from agents_durable.store._pg_ops import STEP_COLUMNS
from agents_durable.store._pg_schema import notify
from agents_durable.store._records import TERMINAL_STATUSES, NewInstance, StepRecord

__all__ = ["fork_instance", "upgrade_instance"]

_STEP_FIELDS = tuple(STEP_COLUMNS.split(", "))


async def upgrade_instance(conn: Any, agent_id: str, id: str, from_hash: str,
                           to: tuple[str, int, str], journal: Sequence[tuple[int, str, int]],
                           now: float) -> str:
    """``"upgraded"``, ``"running"`` or ``"changed"``, as ``_sqlite_evolution``'s."""
    async with conn.transaction():
        row = await conn.fetchrow("SELECT pk, status, plan_name, plan_version, plan_hash "
                                  "FROM instances WHERE agent_id = $1 AND id = $2 "
                                  "FOR NO KEY UPDATE", agent_id, id)
        if row is None:
            raise InstanceNotFound(id)
        pk, status, name, version, plan_hash = row
        if status in TERMINAL_STATUSES:
            raise InstanceNotActive(id, status, "upgrade")
        if status == "running":
            return "running"
        rows = await conn.fetch("SELECT seq, state, attempts FROM steps WHERE instance_pk = "
                                "$1 ORDER BY seq", pk)
        found = [(int(seq), str(state), int(attempts)) for seq, state, attempts in rows]
        if plan_hash != from_hash or found != [tuple(r) for r in journal]:
            return "changed"
        to_name, to_version, to_hash = to
        await conn.execute("UPDATE instances SET plan_name = $1, plan_version = $2, "
                           "plan_hash = $3, updated_at = $4 WHERE pk = $5",
                           to_name, to_version, to_hash, now, pk)
        detail = {"was": status,
                  "from_plan": {"name": name, "version": version, "hash": plan_hash},
                  "to_plan": {"name": to_name, "version": to_version, "hash": to_hash}}
        await conn.execute("INSERT INTO audit (instance_pk, at, action, detail) "
                           "VALUES ($1, $2, 'upgrade', $3)", pk, now, json.dumps(detail))
        return "upgraded"


async def fork_instance(conn: Any, source_id: str, new: NewInstance,
                        steps: Sequence[StepRecord], from_step: dict[str, Any] | None,
                        now: float, channel: str) -> None:
    """Create ``new`` with a copy of ``steps`` as its journal, queued to run now."""
    import asyncpg  # type: ignore[import-untyped]

    try:
        async with conn.transaction():
            source = await conn.fetchrow("SELECT pk, status FROM instances WHERE "
                                         "agent_id = $1 AND id = $2", new.agent_id, source_id)
            if source is None:
                raise InstanceNotFound(source_id)
            if await conn.fetchval("SELECT 1 FROM instances WHERE agent_id = $1 AND id = $2",
                                   new.agent_id, new.id):
                raise InstanceExists(new.id)
            pk = await conn.fetchval(
                "INSERT INTO instances (agent_id, id, plan_name, plan_version, plan_hash, "
                "params, status, created_at, updated_at, wake_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $8) RETURNING pk",
                new.agent_id, new.id, new.plan_name, new.plan_version, new.plan_hash,
                new.params, new.created_at, now)
            marks = ", ".join(f"${n}" for n in range(1, len(_STEP_FIELDS) + 2))
            await conn.executemany(
                f"INSERT INTO steps (instance_pk, {', '.join(_STEP_FIELDS)}) VALUES ({marks})",
                [(pk, *(getattr(step, field) for field in _STEP_FIELDS)) for step in steps])
            plan = {"name": new.plan_name, "version": new.plan_version,
                    "hash": new.plan_hash}
            await conn.execute(
                "INSERT INTO audit (instance_pk, at, action, detail) VALUES ($1, $2, 'fork', "
                "$3)", source[0], now, json.dumps({"was": source[1], "to": new.id,
                                                   "from_step": from_step, "to_plan": plan}))
            await conn.execute(
                "INSERT INTO audit (instance_pk, at, action, detail) VALUES ($1, $2, "
                "'forked', $3)", pk, now, json.dumps({"was": None, "from": source_id,
                                                      "from_step": from_step,
                                                      "to_plan": plan}))
            await conn.execute(notify(channel))
    except asyncpg.UniqueViolationError:  # created by another client since the check
        raise InstanceExists(new.id) from None
