"""Claims, renewals and reclaims of leases on PostgreSQL.

Claims run under READ COMMITTED with ``FOR UPDATE SKIP LOCKED``: two workers claiming at
once lock disjoint rows instead of waiting for each other, and a row one of them has
locked is simply not a candidate for the other. Fairness is ``sqlite._claim_due``'s:
agents take turns (what each agent already runs on *this* worker counts), earliest due
first within a turn, at most ``per_agent`` per agent, at most ``suspects`` instances
that were in flight when a worker died. Instances whose tools this worker lacks
(``exclude``) are never locked.

Lease times are database time (``clock_timestamp()``), never a worker's clock: workers on
machines whose clocks disagree still agree on when a lease expired.
"""

from __future__ import annotations

from typing import Any

from agents_durable.store._decode import decode_instance
from agents_durable.store._pg_ops import INSTANCE_COLUMNS
from agents_durable.store._records import InstanceRecord
from agents_durable.store._recovery import quarantine_error, split_suspects

__all__ = ["claim_due", "reclaim", "renew"]

_DB_NOW = "extract(epoch from clock_timestamp())::float8"
_READY = "status IN ('queued', 'waiting') AND wake_at IS NOT NULL"

#: Per agent with ready work (found by a skip scan of ``instances_ready``), up to its room
#: of due rows this worker can run, locked, skipping rows another claim holds.
_CANDIDATES = f"""
WITH RECURSIVE ready(agent) AS (
    (SELECT agent_id FROM instances WHERE {_READY} ORDER BY agent_id LIMIT 1)
    UNION ALL
    SELECT (SELECT agent_id FROM instances WHERE {_READY} AND agent_id > ready.agent
            ORDER BY agent_id LIMIT 1)
    FROM ready WHERE ready.agent IS NOT NULL),
busy AS (SELECT * FROM unnest($4::text[], $5::bigint[]) AS b(agent, n))
SELECT ready.agent, c.pk, c.wake_at, c.crashes, COALESCE(busy.n, 0) AS busy
FROM ready LEFT JOIN busy ON busy.agent = ready.agent
CROSS JOIN LATERAL (
    SELECT pk, wake_at, crashes FROM instances
    WHERE {_READY} AND agent_id = ready.agent AND wake_at <= $1
      AND NOT (plan_hash || agent_id = ANY($3::text[]))
    ORDER BY wake_at, pk
    LIMIT GREATEST(0, LEAST($2::bigint, $6::bigint - COALESCE(busy.n, 0)))
    FOR UPDATE SKIP LOCKED) c
WHERE ready.agent IS NOT NULL
ORDER BY ready.agent, c.wake_at, c.pk
"""


async def claim_due(conn: Any, now: float, limit: int, per_agent: int | None,
                    running: dict[str, int], exclude: list[str], suspects: int | None,
                    owner: str, lease: float) -> list[InstanceRecord]:
    cap = limit if per_agent is None else per_agent
    async with conn.transaction():
        rows = await conn.fetch(_CANDIDATES, now, limit, exclude, list(running),
                                list(running.values()), cap)
        # the n-th candidate of an agent that already runs b takes turn b + n; rows of
        # one agent come in due order
        ordered: list[tuple[int, float, int, int]] = []
        taken: dict[str, int] = {}
        for agent, pk, wake_at, crashes, busy in rows:
            taken[agent] = turn = taken.get(agent, busy) + 1
            ordered.append((turn, wake_at, pk, crashes))
        ordered.sort()
        allowed = limit if suspects is None else suspects
        chosen: list[int] = []
        for _turn, _wake, pk, crashes in ordered:
            if len(chosen) == limit:
                break
            if crashes > 0:
                if allowed <= 0:
                    continue
                allowed -= 1
            chosen.append(pk)
        if not chosen:
            return []
        claimed = await conn.fetch(
            f"UPDATE instances SET status = 'running', updated_at = $1, lease_owner = $2, "
            f"lease_token = nextval('lease_tokens'), lease_expires = {_DB_NOW} + $3 "
            f"WHERE pk = ANY($4::bigint[]) RETURNING {INSTANCE_COLUMNS}, lease_token",
            now, owner, lease, chosen)
    records = []
    for row in claimed:
        record = decode_instance(tuple(row)[:-1])
        records.append(_with_lease(record, row[-1]))
    records.sort(key=lambda r: (r.wake_at or 0.0, r.pk))
    return records


def _with_lease(record: InstanceRecord, token: int) -> InstanceRecord:
    from dataclasses import replace

    return replace(record, lease=int(token))


async def renew(conn: Any, leases: dict[int, int], lease: float) -> list[int]:
    """Extend the leases still held; the pks of those that are not."""
    held = await conn.fetch(
        f"UPDATE instances SET lease_expires = {_DB_NOW} + $3 FROM unnest($1::bigint[], "
        "$2::bigint[]) AS l(pk, token) WHERE instances.pk = l.pk AND instances.lease_token = "
        "l.token AND instances.status = 'running' RETURNING instances.pk",
        list(leases), list(leases.values()), lease)
    kept = {row[0] for row in held}
    lost = [pk for pk in leases if pk not in kept]
    if lost:
        # This worker is alive, so the reclaim that took these instances away counted a
        # crash that did not happen: clear it where nobody has claimed them since (the
        # reclaim keeps the token). Otherwise a hiccup that outlasts the leases of a
        # busy worker turns its instances into suspects, probed one at a time.
        await conn.execute(
            "UPDATE instances SET crashes = 0 FROM unnest($1::bigint[], $2::bigint[]) AS "
            "l(pk, token) WHERE instances.pk = l.pk AND instances.lease_token = l.token "
            "AND instances.status <> 'running' AND instances.crashes <> 0",
            lost, [leases[pk] for pk in lost])
    return lost


async def reclaim(conn: Any, now: float, quarantine_after: int) -> tuple[int, int]:
    """Release the instances whose lease expired, as ``sqlite._recover`` releases those a
    crash left running: a suspect's crash count grows, a repeat offender is quarantined.

    The lease token stays as it was: the old owner's writes are refused because the
    instance is no longer ``running`` under it, and the next claim draws a new token.
    """
    async with conn.transaction():
        rows = await conn.fetch(
            f"SELECT pk, crashes FROM instances WHERE status = 'running' AND "
            f"lease_expires < {_DB_NOW} FOR UPDATE SKIP LOCKED")
        released, quarantined = split_suspects(rows, quarantine_after)
        error = quarantine_error(quarantine_after)
        if quarantined:
            await conn.execute(
                "UPDATE instances SET status = 'errored', error = $1, wake_at = NULL, "
                "control = NULL, crashes = GREATEST(crashes, 1), updated_at = $2, "
                "lease_owner = NULL, lease_expires = NULL WHERE pk = ANY($3::bigint[])",
                error, now, quarantined)
        if released:
            # it keeps the due time it was claimed at: it runs before later work
            await conn.execute(
                "UPDATE instances SET status = 'queued', wake_at = LEAST(wake_at, $1), "
                "crashes = GREATEST(crashes, 1), updated_at = $1, lease_owner = NULL, "
                "lease_expires = NULL WHERE pk = ANY($2::bigint[])", now, released)
    return len(released), len(quarantined)
