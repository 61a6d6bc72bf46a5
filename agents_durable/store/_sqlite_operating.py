"""The SQLite store's operating transactions: agents, retention and API tokens.

Run on the connection thread by ``SQLiteStore`` (one function, one transaction), like the
journal transactions in ``sqlite.py``; kept apart so that module stays about running.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from agents_durable.errors import InstanceNotActive, InstanceNotFound
from agents_durable.store._records import TERMINAL_STATUSES, TokenRecord
from agents_durable.store._schema import transaction

__all__ = ["count_instances", "delete_instance", "find_token", "list_agents", "list_tokens",
           "purge_instances", "put_token", "revoke_token"]

_JOURNAL_TABLES = ("steps", "events", "logs", "audit", "discarded_steps")
_TOKEN_COLUMNS = "id, agent_id, role, label, created_at, revoked_at"


def list_agents(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT agent_id FROM plan_versions UNION "
                        "SELECT agent_id FROM instances ORDER BY 1").fetchall()
    return [str(row[0]) for row in rows]


def count_instances(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    rows = conn.execute("SELECT agent_id, status, count(*) FROM instances "
                        "GROUP BY agent_id, status ORDER BY agent_id, status").fetchall()
    return [(str(a), str(s), int(n)) for a, s, n in rows]


def _delete_rows(conn: sqlite3.Connection, pk: int) -> None:
    for table in _JOURNAL_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE instance_pk = ?", (pk,))
    conn.execute("DELETE FROM instances WHERE pk = ?", (pk,))


def delete_instance(conn: sqlite3.Connection, agent_id: str, id: str) -> None:
    with transaction(conn):
        row = conn.execute("SELECT pk, status FROM instances WHERE agent_id = ? AND id = ?",
                           (agent_id, id)).fetchone()
        if row is None:
            raise InstanceNotFound(id)
        if row[1] not in TERMINAL_STATUSES:
            raise InstanceNotActive(id, str(row[1]), "delete")
        _delete_rows(conn, int(row[0]))


def purge_instances(conn: sqlite3.Connection, cutoffs: Mapping[str, float],
                    agent_id: str | None, limit: int) -> list[tuple[str, str]]:
    statuses = [s for s in cutoffs if s in TERMINAL_STATUSES]
    if not statuses or limit < 1:
        return []
    where = " OR ".join("(status = ? AND updated_at < ?)" for _ in statuses)
    params: list[Any] = [value for s in statuses for value in (s, float(cutoffs[s]))]
    if agent_id is not None:
        where = f"({where}) AND agent_id = ?"
        params.append(agent_id)
    with transaction(conn):
        rows = conn.execute(f"SELECT pk, agent_id, id FROM instances WHERE {where} "
                            "ORDER BY updated_at LIMIT ?", (*params, limit)).fetchall()
        for pk, _, _ in rows:
            _delete_rows(conn, int(pk))
    return [(str(agent), str(id)) for _, agent, id in rows]


def _token(row: Any) -> TokenRecord:
    return TokenRecord(id=row[0], agent_id=row[1], role=row[2], label=row[3],
                       created_at=row[4], revoked_at=row[5])


def put_token(conn: sqlite3.Connection, id: str, token_hash: str, agent_id: str | None,
              role: str, label: str, now: float) -> TokenRecord:
    with transaction(conn):
        conn.execute("INSERT INTO api_tokens (id, token_hash, agent_id, role, label, "
                     "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (id, token_hash, agent_id, role, label, now))
    return TokenRecord(id=id, agent_id=agent_id, role=role, label=label, created_at=now)


def find_token(conn: sqlite3.Connection, token_hash: str) -> TokenRecord | None:
    row = conn.execute(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ? "
                       "AND revoked_at IS NULL", (token_hash,)).fetchone()
    return _token(row) if row else None


def list_tokens(conn: sqlite3.Connection) -> list[TokenRecord]:
    rows = conn.execute(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens "
                        "ORDER BY created_at, id").fetchall()
    return [_token(row) for row in rows]


def revoke_token(conn: sqlite3.Connection, id: str, now: float) -> bool:
    with transaction(conn):
        cursor = conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? "
                              "AND revoked_at IS NULL", (now, id))
        return cursor.rowcount > 0
