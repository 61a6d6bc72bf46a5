"""SQLite statements for child instances (see ``engine/_children.py``).

``start_child`` creates a child idempotently (the same id under the same parent is the same
child); ``instance_ended`` runs inside the transaction that ends an instance: it delivers
the end to the parent as a ``CHILD_EVENT`` (waking it), and terminates the instance's
active children that do not outlive it, recursively.
"""

from __future__ import annotations

import json
import sqlite3

from agents_durable.errors import InstanceExists, InstanceNotFound
from agents_durable.store._decode import child_result
from agents_durable.store._records import CHILD_EVENT, TERMINAL_STATUSES, NewInstance
from agents_durable.store._schema import transaction

__all__ = ["instance_ended", "start_child"]

_TERMINAL = tuple(sorted(TERMINAL_STATUSES))


def start_child(conn: sqlite3.Connection, parent_pk: int, new: NewInstance,
                keep: bool) -> bool:
    """Create ``new`` as a child of ``parent_pk``, queued now; False if it exists already.

    Raises ``InstanceExists`` when the id belongs to an instance that is not this
    parent's child."""
    with transaction(conn):
        row = conn.execute("SELECT parent_pk FROM instances WHERE agent_id = ? AND id = ?",
                           (new.agent_id, new.id)).fetchone()
        if row is not None:
            if row[0] != parent_pk:
                raise InstanceExists(new.id)
            return False
        if conn.execute("SELECT 1 FROM instances WHERE pk = ?", (parent_pk,)).fetchone() \
                is None:
            raise InstanceNotFound(f"#{parent_pk}")
        conn.execute(
            "INSERT INTO instances (agent_id, id, plan_name, plan_version, plan_hash, "
            "params, status, created_at, updated_at, wake_at, parent_pk, on_parent_end) "
            "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
            (new.agent_id, new.id, new.plan_name, new.plan_version, new.plan_hash,
             new.params, new.created_at, new.created_at, new.created_at, parent_pk,
             "keep" if keep else "terminate"))
        return True


def instance_ended(conn: sqlite3.Connection, pk: int, status: str, now: float) -> None:
    """Instance ``pk`` just became ``status`` (terminal), in the caller's transaction."""
    row = conn.execute("SELECT id, parent_pk, output, error FROM instances WHERE pk = ?",
                       (pk,)).fetchone()
    if row is None:
        return
    id, parent_pk, output, error = row
    if parent_pk is not None:
        parent = conn.execute("SELECT status FROM instances WHERE pk = ?",
                              (parent_pk,)).fetchone()
        if parent is not None and parent[0] not in TERMINAL_STATUSES:
            payload = json.dumps({"id": id, "status": status,
                                  "output": child_result(output), "error": child_result(error)})
            conn.execute("INSERT INTO events (instance_pk, type, payload, created_at) "
                         "VALUES (?, ?, ?, ?)", (parent_pk, CHILD_EVENT, payload, now))
            if parent[0] == "waiting":
                conn.execute("UPDATE instances SET wake_at = ?, updated_at = ? WHERE pk = ?",
                             (now, now, parent_pk))
    marks = ", ".join("?" * len(_TERMINAL))
    children = conn.execute(
        f"SELECT pk, status FROM instances WHERE parent_pk = ? AND on_parent_end = "
        f"'terminate' AND status NOT IN ({marks}) ORDER BY pk", (pk, *_TERMINAL)).fetchall()
    for child_pk, child_status in children:
        detail = json.dumps({"was": child_status, "by_parent": id,
                             **({"deferred": True} if child_status == "running" else {})})
        conn.execute("INSERT INTO audit (instance_pk, at, action, detail) VALUES (?, ?, ?, ?)",
                     (child_pk, now, "terminate", detail))
        if child_status == "running":  # applied when its activation stops
            conn.execute("UPDATE instances SET control = 'terminate', updated_at = ? "
                         "WHERE pk = ?", (now, child_pk))
            continue
        conn.execute("UPDATE instances SET status = 'terminated', wake_at = NULL, "
                     "control = NULL, updated_at = ? WHERE pk = ?", (now, child_pk))
        instance_ended(conn, child_pk, "terminated", now)
