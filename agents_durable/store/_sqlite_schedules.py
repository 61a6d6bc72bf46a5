"""SQLite statements for schedules (see ``engine/_schedules.py``).

Each slot of a schedule starts at most one instance, however many workers race and
across restarts: the instance id is derived from the schedule and the slot, so the
unique ``(agent_id, id)`` key refuses a second one, and ``fire`` moves the schedule's
``next_at`` in the same transaction, conditional on the value the caller computed from.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from agents_durable.store._records import TERMINAL_STATUSES, NewInstance, ScheduleRecord
from agents_durable.store._schema import transaction

__all__ = ["delete_schedule", "due_schedules", "fire", "get_schedules", "next_schedule_at",
           "put_schedule", "schedule_active", "set_paused"]

_COLUMNS = ("agent_id, name, plan, cron, timezone, params, overlap, catch_up, paused, "
            "next_at, held, created_at")
_TERMINAL = tuple(sorted(TERMINAL_STATUSES))


def _record(row: Sequence[Any]) -> ScheduleRecord:
    values = list(row)
    values[8] = bool(values[8])
    return ScheduleRecord(*values)


def put_schedule(conn: sqlite3.Connection, record: ScheduleRecord) -> None:
    with transaction(conn):
        conn.execute(f"INSERT OR REPLACE INTO schedules ({_COLUMNS}) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (record.agent_id, record.name, record.plan, record.cron, record.timezone,
                      record.params, record.overlap, record.catch_up, int(record.paused),
                      record.next_at, record.held, record.created_at))


def get_schedules(conn: sqlite3.Connection, agent_id: str,
                  name: str | None) -> list[ScheduleRecord]:
    if name is None:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM schedules WHERE agent_id = ? "
                            "ORDER BY name", (agent_id,)).fetchall()
    else:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM schedules WHERE agent_id = ? AND "
                            "name = ?", (agent_id, name)).fetchall()
    return [_record(row) for row in rows]


def set_paused(conn: sqlite3.Connection, agent_id: str, name: str, paused: bool,
               next_at: float | None) -> bool:
    with transaction(conn):
        cursor = conn.execute("UPDATE schedules SET paused = ?, next_at = ?, held = NULL "
                              "WHERE agent_id = ? AND name = ?",
                              (int(paused), next_at, agent_id, name))
        return cursor.rowcount > 0


def delete_schedule(conn: sqlite3.Connection, agent_id: str, name: str) -> bool:
    with transaction(conn):
        cursor = conn.execute("DELETE FROM schedules WHERE agent_id = ? AND name = ?",
                              (agent_id, name))
        return cursor.rowcount > 0


def due_schedules(conn: sqlite3.Connection, now: float) -> list[ScheduleRecord]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM schedules WHERE paused = 0 AND "
                        "next_at <= ? ORDER BY next_at LIMIT 100", (now,)).fetchall()
    return [_record(row) for row in rows]


def next_schedule_at(conn: sqlite3.Connection) -> float | None:
    row = conn.execute("SELECT MIN(next_at) FROM schedules WHERE paused = 0").fetchone()
    return float(row[0]) if row and row[0] is not None else None


def schedule_active(conn: sqlite3.Connection, agent_id: str, name: str) -> bool:
    marks = ", ".join("?" * len(_TERMINAL))
    return conn.execute(f"SELECT 1 FROM instances WHERE agent_id = ? AND schedule = ? AND "
                        f"status NOT IN ({marks}) LIMIT 1",
                        (agent_id, name, *_TERMINAL)).fetchone() is not None


def fire(conn: sqlite3.Connection, agent_id: str, name: str, expected_next_at: float,
         instances: Sequence[NewInstance], next_at: float | None,
         held: float | None) -> list[str]:
    """Create the slots' instances (those not created already) and move ``next_at``.

    Nothing happens (returns ``[]``) when the schedule's ``next_at`` is no longer
    ``expected_next_at``: another worker handled these slots first, or it changed."""
    with transaction(conn):
        row = conn.execute("SELECT next_at FROM schedules WHERE agent_id = ? AND name = ? "
                           "AND paused = 0", (agent_id, name)).fetchone()
        if row is None or row[0] != expected_next_at:
            return []
        created = []
        for new in instances:
            if conn.execute("SELECT 1 FROM instances WHERE agent_id = ? AND id = ?",
                            (agent_id, new.id)).fetchone() is not None:
                continue  # this slot already started its instance
            conn.execute(
                "INSERT INTO instances (agent_id, id, plan_name, plan_version, plan_hash, "
                "params, status, created_at, updated_at, wake_at, schedule) "
                "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (agent_id, new.id, new.plan_name, new.plan_version, new.plan_hash,
                 new.params, new.created_at, new.created_at, new.created_at, name))
            created.append(new.id)
        conn.execute("UPDATE schedules SET next_at = ?, held = ? WHERE agent_id = ? AND "
                     "name = ?", (next_at, held, agent_id, name))
        return created
