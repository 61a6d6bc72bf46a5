"""SQLite statements for evolving instances in flight: moving an instance to another plan
version (after the engine proved the version replays its journal) and forking an
instance into a new one that starts from a copy of a journal prefix.

Each function is one transaction run on the store's connection thread. The upgrade is
conditional on the journal being exactly the one the engine verified (``journal``: every
row's ``(seq, state, attempts)``), so an activation that ran in between is never
overwritten by a verdict about an older journal.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from agents_durable.errors import InstanceExists, InstanceNotActive, InstanceNotFound
from agents_durable.store._records import TERMINAL_STATUSES, NewInstance, StepRecord
from agents_durable.store._schema import transaction

__all__ = ["JournalFingerprint", "fork_instance", "upgrade_instance"]

#: ``(seq, state, attempts)`` of every journal row, in ``seq`` order.
JournalFingerprint = Sequence[tuple[int, str, int]]

_STEP_FIELDS = ("seq", "kind", "name", "occurrence", "state", "result", "error", "config",
                "attempts", "started_at", "ended_at", "wake_at", "detail", "scope",
                "position")


def _fingerprint(conn: sqlite3.Connection, pk: int) -> list[tuple[int, str, int]]:
    rows = conn.execute("SELECT seq, state, attempts FROM steps WHERE instance_pk = ? "
                        "ORDER BY seq", (pk,)).fetchall()
    return [(int(seq), str(state), int(attempts)) for seq, state, attempts in rows]


def upgrade_instance(conn: sqlite3.Connection, agent_id: str, id: str, from_hash: str,
                     to: tuple[str, int, str], journal: JournalFingerprint,
                     now: float) -> str:
    """Repin instance ``id`` from ``from_hash`` to ``to`` (name, version, hash).

    Returns ``"upgraded"``, or why nothing changed: ``"running"`` (an activation holds the
    instance), ``"changed"`` (its plan or its journal is no longer the verified one).
    Raises ``InstanceNotFound`` or ``InstanceNotActive`` (finished).
    """
    with transaction(conn):
        row = conn.execute("SELECT pk, status, plan_name, plan_version, plan_hash "
                           "FROM instances WHERE agent_id = ? AND id = ?",
                           (agent_id, id)).fetchone()
        if row is None:
            raise InstanceNotFound(id)
        pk, status, name, version, plan_hash = row
        if status in TERMINAL_STATUSES:
            raise InstanceNotActive(id, status, "upgrade")
        if status == "running":
            return "running"
        if plan_hash != from_hash or _fingerprint(conn, pk) != [tuple(r) for r in journal]:
            return "changed"
        to_name, to_version, to_hash = to
        conn.execute("UPDATE instances SET plan_name = ?, plan_version = ?, plan_hash = ?, "
                     "updated_at = ? WHERE pk = ?", (to_name, to_version, to_hash, now, pk))
        detail = {"was": status,
                  "from_plan": {"name": name, "version": version, "hash": plan_hash},
                  "to_plan": {"name": to_name, "version": to_version, "hash": to_hash}}
        conn.execute("INSERT INTO audit (instance_pk, at, action, detail) VALUES (?, ?, ?, ?)",
                     (pk, now, "upgrade", json.dumps(detail)))
        return "upgraded"


def fork_instance(conn: sqlite3.Connection, source_id: str, new: NewInstance,
                  steps: Sequence[StepRecord], from_step: dict[str, Any] | None,
                  now: float) -> None:
    """Create ``new`` with a copy of ``steps`` as its journal, queued to run now.

    Both instances get an audit entry (``fork`` on the source, ``forked`` on the copy)
    naming the other and the step the fork starts from. Raises ``InstanceExists``.
    """
    with transaction(conn):
        source = conn.execute("SELECT pk, status FROM instances WHERE agent_id = ? AND id = ?",
                              (new.agent_id, source_id)).fetchone()
        if source is None:
            raise InstanceNotFound(source_id)
        if conn.execute("SELECT 1 FROM instances WHERE agent_id = ? AND id = ?",
                        (new.agent_id, new.id)).fetchone() is not None:
            raise InstanceExists(new.id)
        cursor = conn.execute(
            "INSERT INTO instances (agent_id, id, plan_name, plan_version, plan_hash, "
            "params, status, created_at, updated_at, wake_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
            (new.agent_id, new.id, new.plan_name, new.plan_version, new.plan_hash,
             new.params, new.created_at, now, now))
        pk = cursor.lastrowid
        marks = ", ".join("?" * (len(_STEP_FIELDS) + 1))
        conn.executemany(
            f"INSERT INTO steps (instance_pk, {', '.join(_STEP_FIELDS)}) VALUES ({marks})",
            [(pk, *(getattr(step, field) for field in _STEP_FIELDS)) for step in steps])
        plan = {"name": new.plan_name, "version": new.plan_version, "hash": new.plan_hash}
        conn.execute("INSERT INTO audit (instance_pk, at, action, detail) VALUES (?, ?, ?, ?)",
                     (source[0], now, "fork", json.dumps(
                         {"was": source[1], "to": new.id, "from_step": from_step,
                          "to_plan": plan})))
        conn.execute("INSERT INTO audit (instance_pk, at, action, detail) VALUES (?, ?, ?, ?)",
                     (pk, now, "forked", json.dumps(
                         {"was": None, "from": source_id, "from_step": from_step,
                          "to_plan": plan})))
