"""PostgreSQL statements for schedules: the twins of ``_sqlite_schedules.py``.

Each slot of a schedule starts at most one instance however many workers race: ``fire``
locks the schedule row (``FOR UPDATE``) and proceeds only while ``next_at`` is still the
value the caller computed from, so the second worker to reach a slot finds it moved and
does nothing; the instance id derived from the schedule and the slot (unique per agent)
refuses a second instance across restarts as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents_durable.store._pg_schema import notify
from agents_durable.store._records import TERMINAL_STATUSES, NewInstance, ScheduleRecord

__all__ = ["delete_schedule", "due_schedules", "fire", "get_schedules", "next_schedule_at",
           "put_schedule", "schedule_active", "set_paused"]

_COLUMNS = ("agent_id, name, plan, cron, timezone, params, overlap, catch_up, paused, "
            "next_at, held, created_at")
_TERMINAL = sorted(TERMINAL_STATUSES)


def _record(row: Sequence[Any]) -> ScheduleRecord:
    values = list(row)
    values[8] = bool(values[8])
    return ScheduleRecord(*values)


async def put_schedule(conn: Any, record: ScheduleRecord) -> None:
    await conn.execute(
        f"INSERT INTO schedules ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "$10, $11, $12) ON CONFLICT (agent_id, name) DO UPDATE SET plan = EXCLUDED.plan, "
        "cron = EXCLUDED.cron, timezone = EXCLUDED.timezone, params = EXCLUDED.params, "
        "overlap = EXCLUDED.overlap, catch_up = EXCLUDED.catch_up, paused = EXCLUDED.paused, "
        "next_at = EXCLUDED.next_at, held = EXCLUDED.held, created_at = EXCLUDED.created_at",
        record.agent_id, record.name, record.plan, record.cron, record.timezone,
        record.params, record.overlap, record.catch_up, bool(record.paused), record.next_at,
        record.held, record.created_at)


async def get_schedules(conn: Any, agent_id: str, name: str | None) -> list[ScheduleRecord]:
    if name is None:
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM schedules WHERE agent_id = $1 "
                                "ORDER BY name", agent_id)
    else:
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM schedules WHERE agent_id = $1 AND "
                                "name = $2", agent_id, name)
    return [_record(row) for row in rows]


async def set_paused(conn: Any, agent_id: str, name: str, paused: bool,
                     next_at: float | None) -> bool:
    result = await conn.execute("UPDATE schedules SET paused = $1, next_at = $2, held = NULL "
                                "WHERE agent_id = $3 AND name = $4", paused, next_at,
                                agent_id, name)
    return str(result).split()[-1] != "0"


async def delete_schedule(conn: Any, agent_id: str, name: str) -> bool:
    result = await conn.execute("DELETE FROM schedules WHERE agent_id = $1 AND name = $2",
                                agent_id, name)
    return str(result).split()[-1] != "0"


async def due_schedules(conn: Any, now: float) -> list[ScheduleRecord]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM schedules WHERE NOT paused AND "
                            "next_at <= $1 ORDER BY next_at LIMIT 100", now)
    return [_record(row) for row in rows]


async def next_schedule_at(conn: Any) -> float | None:
    value = await conn.fetchval("SELECT MIN(next_at) FROM schedules WHERE NOT paused")
    return float(value) if value is not None else None


async def schedule_active(conn: Any, agent_id: str, name: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT 1 FROM instances WHERE agent_id = $1 AND schedule = $2 AND "
        "NOT (status = ANY($3::text[])) LIMIT 1", agent_id, name, _TERMINAL))


async def fire(conn: Any, agent_id: str, name: str, expected_next_at: float,
               instances: Sequence[NewInstance], next_at: float | None,
               held: float | None, channel: str) -> list[str]:
    """Create the slots' instances (those not created already) and move ``next_at``;
    ``[]`` when another worker handled these slots first or the schedule changed."""
    async with conn.transaction():
        current = await conn.fetchrow("SELECT next_at FROM schedules WHERE agent_id = $1 "
                                      "AND name = $2 AND NOT paused FOR UPDATE",
                                      agent_id, name)
        if current is None or current[0] != expected_next_at:
            return []
        created = []
        for new in instances:
            made = await conn.fetchval(
                "INSERT INTO instances (agent_id, id, plan_name, plan_version, plan_hash, "
                "params, status, created_at, updated_at, wake_at, schedule) "
                "VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $7, $7, $8) "
                "ON CONFLICT (agent_id, id) DO NOTHING RETURNING pk",
                agent_id, new.id, new.plan_name, new.plan_version, new.plan_hash,
                new.params, new.created_at, name)
            if made is not None:
                created.append(new.id)
        await conn.execute("UPDATE schedules SET next_at = $1, held = $2 WHERE agent_id = $3 "
                           "AND name = $4", next_at, held, agent_id, name)
        if created:
            await conn.execute(notify(channel))
        return created
