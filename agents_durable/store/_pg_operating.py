"""The PostgreSQL store's operating transactions: agents, retention and API tokens.

The twin of ``_sqlite_operating.py``, function for function, run by ``PostgresStore`` on a
pooled asyncpg connection (one function, one transaction).

Deletion is lease-safe: the instance row is locked (``FOR UPDATE``) before its status is
read, so a worker claiming it at the same moment either claimed it first (the row is
``running``: the deletion is refused, as on SQLite) or waits until the deletion committed
and finds no row. Retention skips rows another transaction holds (``SKIP LOCKED``) and
deletes one batch per transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents_durable.errors import InstanceNotActive, InstanceNotFound
from agents_durable.store._records import TERMINAL_STATUSES, TokenRecord

__all__ = ["count_instances", "delete_instance", "find_token", "list_agents", "list_tokens",
           "purge_instances", "put_token", "revoke_token"]

_JOURNAL_TABLES = ("steps", "events", "logs", "audit", "discarded_steps")
_TOKEN_COLUMNS = "id, agent_id, role, label, created_at, revoked_at"


async def list_agents(conn: Any) -> list[str]:
    rows = await conn.fetch("SELECT agent_id FROM plan_versions UNION "
                            "SELECT agent_id FROM instances ORDER BY 1")
    return [str(row[0]) for row in rows]


async def count_instances(conn: Any) -> list[tuple[str, str, int]]:
    rows = await conn.fetch("SELECT agent_id, status, count(*) FROM instances "
                            "GROUP BY agent_id, status ORDER BY agent_id, status")
    return [(str(a), str(s), int(n)) for a, s, n in rows]


async def _delete_rows(conn: Any, pks: list[int]) -> None:
    for table in _JOURNAL_TABLES:
        await conn.execute(f"DELETE FROM {table} WHERE instance_pk = ANY($1::bigint[])", pks)
    await conn.execute("DELETE FROM instances WHERE pk = ANY($1::bigint[])", pks)


async def delete_instance(conn: Any, agent_id: str, id: str) -> None:
    async with conn.transaction():
        row = await conn.fetchrow("SELECT pk, status FROM instances WHERE agent_id = $1 "
                                  "AND id = $2 FOR UPDATE", agent_id, id)
        if row is None:
            raise InstanceNotFound(id)
        if row[1] not in TERMINAL_STATUSES:
            raise InstanceNotActive(id, str(row[1]), "delete")
        await _delete_rows(conn, [int(row[0])])


async def purge_instances(conn: Any, cutoffs: Mapping[str, float], agent_id: str | None,
                          limit: int) -> list[tuple[str, str]]:
    statuses = [s for s in cutoffs if s in TERMINAL_STATUSES]
    if not statuses or limit < 1:
        return []
    params: list[Any] = []
    clauses = []
    for status in statuses:
        params.extend((status, float(cutoffs[status])))
        clauses.append(f"(status = ${len(params) - 1} AND updated_at < ${len(params)})")
    where = " OR ".join(clauses)
    if agent_id is not None:
        params.append(agent_id)
        where = f"({where}) AND agent_id = ${len(params)}"
    params.append(limit)
    async with conn.transaction():
        rows = await conn.fetch(f"SELECT pk, agent_id, id FROM instances WHERE {where} "
                                f"ORDER BY updated_at LIMIT ${len(params)} "
                                "FOR UPDATE SKIP LOCKED", *params)
        if rows:
            await _delete_rows(conn, [int(row[0]) for row in rows])
    return [(str(agent), str(id)) for _, agent, id in rows]


def _token(row: Any) -> TokenRecord:
    return TokenRecord(id=row[0], agent_id=row[1], role=row[2], label=row[3],
                       created_at=row[4], revoked_at=row[5])


async def put_token(conn: Any, id: str, token_hash: str, agent_id: str | None, role: str,
                    label: str, now: float) -> TokenRecord:
    await conn.execute("INSERT INTO api_tokens (id, token_hash, agent_id, role, label, "
                       "created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                       id, token_hash, agent_id, role, label, now)
    return TokenRecord(id=id, agent_id=agent_id, role=role, label=label, created_at=now)


async def find_token(conn: Any, token_hash: str) -> TokenRecord | None:
    row = await conn.fetchrow(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens "
                              "WHERE token_hash = $1 AND revoked_at IS NULL", token_hash)
    return _token(row) if row else None


async def list_tokens(conn: Any) -> list[TokenRecord]:
    rows = await conn.fetch(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens "
                            "ORDER BY created_at, id")
    return [_token(row) for row in rows]


async def revoke_token(conn: Any, id: str, now: float) -> bool:
    status = await conn.execute("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 "
                                "AND revoked_at IS NULL", now, id)
    return str(status).split()[-1] != "0"
