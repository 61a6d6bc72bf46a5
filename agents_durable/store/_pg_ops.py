"""The PostgreSQL store's transactions, one function each (the twins of ``sqlite.py``'s).

Each takes an asyncpg connection from the pool and runs one transaction under READ
COMMITTED. Instance rows are locked (``FOR NO KEY UPDATE``) where SQLite's
``BEGIN IMMEDIATE`` would serialise: a finish and an event for the same instance, a
control request and a finish. Writes of an activation check its fencing token under that
lock, so a reclaim either happened before (the write is refused) or waits for it.
"""

from __future__ import annotations

import json
from typing import Any

from agents_durable.errors import (
    CorruptRecord,
    InstanceExists,
    InstanceNotActive,
    InstanceNotFound,
    StoreUnavailable,
)
from agents_durable.store._decode import (
    corrupt_instance,
    decode_audit,
    decode_event,
    decode_instance,
    decode_log,
    decode_plan_version,
    decode_step,
    event_replay_problem,
    instance_run_problem,
    step_replay_problem,
)
from agents_durable.store._pg_children import instance_ended
from agents_durable.store._pg_schema import notify, quote_ident
from agents_durable.store._records import (
    TERMINAL_STATUSES,
    AuditRecord,
    DiscardedStepRecord,
    EventRecord,
    Finish,
    InstanceRecord,
    Journal,
    LogRecord,
    NewInstance,
    PlanVersionRecord,
    StepRecord,
)

__all__ = ["INSTANCE_COLUMNS", "PLAN_COLUMNS", "STEP_COLUMNS", "quote_ident", "unavailable"]

INSTANCE_COLUMNS = ("pk, agent_id, id, plan_name, plan_version, plan_hash, params, status, "
                    "output, error, created_at, updated_at, wake_at, control, paused_at, "
                    "crashes")
STEP_COLUMNS = ("seq, kind, name, occurrence, state, result, error, config, attempts, "
                "started_at, ended_at, wake_at, detail, scope, position")
PLAN_COLUMNS = ("agent_id, name, version, hash, source, description, outline, policy, "
                "created_at")
_OWNED = "pk = $1 AND status = 'running' AND lease_token = $2"


def unavailable(error: BaseException, where: str) -> BaseException:
    """``StoreUnavailable`` for a failure of the server or the network, else ``error``."""
    import asyncpg  # type: ignore[import-untyped]

    transient = (OSError, TimeoutError, asyncpg.PostgresConnectionError,
                 asyncpg.InterfaceError, asyncpg.InsufficientResourcesError,
                 asyncpg.OperatorInterventionError, asyncpg.TransactionRollbackError,
                 asyncpg.CannotConnectNowError, asyncpg.ReadOnlySQLTransactionError)
    if isinstance(error, StoreUnavailable) or not isinstance(error, transient):
        return error
    wrapped = StoreUnavailable(
        f"the database {where} failed: {type(error).__name__}: {error}. Nothing was "
        "written; the engine retries by itself, a host call may be retried once the server "
        "answers again")
    wrapped.__cause__ = error
    return wrapped


async def put_plan_version(conn: Any, agent_id: str, name: str, hash: str, source: str,
                           description: str, outline: str, policy: str,
                           now: float) -> tuple[PlanVersionRecord, bool]:
    async with conn.transaction():
        # two workers registering the same plan at once: the second sees the first's row
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7412))",
                           f"{agent_id}\n{name}")
        row = await conn.fetchrow(f"SELECT {PLAN_COLUMNS} FROM plan_versions WHERE "
                                  "agent_id = $1 AND name = $2 AND hash = $3",
                                  agent_id, name, hash)
        if row is not None:
            return decode_plan_version(row), False
        latest = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM plan_versions "
                                     "WHERE agent_id = $1 AND name = $2", agent_id, name)
        record = PlanVersionRecord(agent_id, name, int(latest) + 1, hash, source, description,
                                   outline, policy, now)
        await conn.execute(f"INSERT INTO plan_versions ({PLAN_COLUMNS}) VALUES "
                           "($1, $2, $3, $4, $5, $6, $7, $8, $9)", agent_id, name,
                           record.version, hash, source, description, outline, policy, now)
        return record, True


async def create_instances(conn: Any, instances: list[NewInstance], channel: str) -> None:
    import asyncpg

    seen: set[tuple[str, str]] = set()
    for new in instances:  # a duplicate within the batch is refused like a stored one
        if (new.agent_id, new.id) in seen:
            raise InstanceExists(new.id)
        seen.add((new.agent_id, new.id))
    agents = [new.agent_id for new in instances]
    ids = [new.id for new in instances]
    try:
        async with conn.transaction():
            taken = {(a, i) for a, i in await conn.fetch(
                "SELECT i.agent_id, i.id FROM instances i JOIN unnest($1::text[], "
                "$2::text[]) AS n(agent_id, id) ON i.agent_id = n.agent_id AND i.id = n.id",
                agents, ids)}
            for new in instances:
                if (new.agent_id, new.id) in taken:
                    raise InstanceExists(new.id)
            await conn.execute(
                "INSERT INTO instances (agent_id, id, plan_name, plan_version, plan_hash, "
                "params, status, created_at, updated_at, wake_at) SELECT a, i, n, v, h, p, "
                "'queued', t, t, t FROM unnest($1::text[], $2::text[], $3::text[], "
                "$4::bigint[], $5::text[], $6::text[], $7::float8[]) AS x(a, i, n, v, h, p, t)",
                agents, ids, [n.plan_name for n in instances],
                [n.plan_version for n in instances], [n.plan_hash for n in instances],
                [n.params for n in instances], [n.created_at for n in instances])
            await conn.execute(notify(channel))
    except asyncpg.UniqueViolationError:  # created by another client since our check
        async with conn.transaction():
            for new in instances:
                if await conn.fetchval("SELECT 1 FROM instances WHERE agent_id = $1 AND "
                                       "id = $2", new.agent_id, new.id):
                    raise InstanceExists(new.id) from None
        raise


async def history(conn: Any, pk: int) -> tuple[list[StepRecord], list[EventRecord],
                                                list[LogRecord]]:
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        steps = await conn.fetch(f"SELECT {STEP_COLUMNS} FROM steps WHERE instance_pk = $1 "
                                 "ORDER BY seq", pk)
        events = await conn.fetch("SELECT seq, type, payload, created_at, consumed_by FROM "
                                  "events WHERE instance_pk = $1 ORDER BY seq", pk)
        logs = await conn.fetch("SELECT seq, at, line FROM logs WHERE instance_pk = $1 "
                                "ORDER BY seq", pk)
    return ([decode_step(row) for row in steps], [decode_event(row) for row in events],
            [decode_log(row) for row in logs])


async def audit(conn: Any, pk: int) -> tuple[list[AuditRecord], list[DiscardedStepRecord]]:
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        entries = await conn.fetch("SELECT seq, at, action, detail FROM audit WHERE "
                                   "instance_pk = $1 ORDER BY seq", pk)
        discarded = await conn.fetch(f"SELECT audit_seq, {STEP_COLUMNS} FROM discarded_steps "
                                     "WHERE instance_pk = $1 ORDER BY audit_seq, seq", pk)
    return ([decode_audit(row) for row in entries],
            [DiscardedStepRecord(row[0], decode_step(tuple(row)[1:])) for row in discarded])


async def load_journals(conn: Any, pks: list[int]
                        ) -> tuple[dict[int, Journal], dict[int, CorruptRecord]]:
    """As ``sqlite._load_journals``: the journals, and why each refused instance must not
    run. One consistent snapshot across the five reads."""
    journals = {pk: Journal() for pk in pks}
    problems: dict[int, str] = {}
    ids: dict[int, str] = {}

    def refuse(pk: int, problem: str | None) -> None:
        if problem is not None and pk not in problems:
            problems[pk] = problem

    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        for row in await conn.fetch(f"SELECT {INSTANCE_COLUMNS} FROM instances "
                                    "WHERE pk = ANY($1::bigint[])", pks):
            instance = decode_instance(row)
            ids[instance.pk] = instance.id
            refuse(instance.pk, instance_run_problem(instance))
        for row in await conn.fetch(f"SELECT instance_pk, {STEP_COLUMNS} FROM steps "
                                    "WHERE instance_pk = ANY($1::bigint[])", pks):
            pk, *fields = row
            record = decode_step(fields)
            refuse(pk, step_replay_problem(record))
            journals[pk].steps[record.seq] = record
        for row in await conn.fetch(
                "SELECT instance_pk, seq, type, payload, created_at, consumed_by FROM events "
                "WHERE instance_pk = ANY($1::bigint[]) AND consumed_by IS NULL ORDER BY seq",
                pks):
            pk, *fields = row
            event = decode_event(fields)
            refuse(pk, event_replay_problem(event))
            journals[pk].events.append(event)
        for pk, last in await conn.fetch("SELECT instance_pk, MAX(seq) FROM events WHERE "
                                         "instance_pk = ANY($1::bigint[]) GROUP BY instance_pk",
                                         pks):
            journals[pk].last_event_seq = int(last)
        for pk, lines, size in await conn.fetch(
                "SELECT instance_pk, COUNT(*), SUM(octet_length(line)) FROM logs "
                "WHERE instance_pk = ANY($1::bigint[]) GROUP BY instance_pk", pks):
            journals[pk].log_lines, journals[pk].log_bytes = int(lines), int(size or 0)
    refused = {pk: corrupt_instance(ids.get(pk, f"#{pk}"), problem)
               for pk, problem in problems.items()}
    for pk in refused:
        del journals[pk]
    return journals, refused


async def agent_storage_bytes(conn: Any, agent_id: str) -> int:
    steps = await conn.fetchval(
        "SELECT SUM(octet_length(COALESCE(s.result, '')) + octet_length(COALESCE(s.error, "
        "'')) + octet_length(COALESCE(s.config, '')) + octet_length(COALESCE(s.detail, ''))) "
        "FROM steps s JOIN instances i ON i.pk = s.instance_pk WHERE i.agent_id = $1",
        agent_id)
    logs = await conn.fetchval("SELECT SUM(octet_length(l.line)) FROM logs l JOIN instances i "
                               "ON i.pk = l.instance_pk WHERE i.agent_id = $1", agent_id)
    return int(steps or 0) + int(logs or 0)


#: One statement, so one round trip and its own transaction: lock the instance row if the
#: token still holds, clear its crash count (progress), upsert the step, consume the event.
_WRITE_STEP = f"""
WITH owner AS (
    SELECT pk, crashes FROM instances WHERE {_OWNED} FOR NO KEY UPDATE),
reset AS (
    UPDATE instances SET crashes = 0 FROM owner
    WHERE instances.pk = owner.pk AND owner.crashes <> 0),
consumed AS (
    UPDATE events SET consumed_by = $4 FROM owner WHERE events.seq = $3),
written AS (
    INSERT INTO steps (instance_pk, {STEP_COLUMNS})
    SELECT owner.pk, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18
    FROM owner
    ON CONFLICT (instance_pk, seq) DO UPDATE SET
        kind = EXCLUDED.kind, name = EXCLUDED.name, occurrence = EXCLUDED.occurrence,
        state = EXCLUDED.state, result = EXCLUDED.result, error = EXCLUDED.error,
        config = EXCLUDED.config, attempts = EXCLUDED.attempts,
        started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at,
        wake_at = EXCLUDED.wake_at, detail = EXCLUDED.detail, scope = EXCLUDED.scope,
        position = EXCLUDED.position)
SELECT count(*) FROM owner
"""


async def write_step(conn: Any, pk: int, step: StepRecord, consume_event: int | None,
                     lease: int) -> bool:
    """Whether the row was written (False: the lease no longer holds; nothing was)."""
    held = await conn.fetchval(
        _WRITE_STEP, pk, lease, consume_event, step.seq, step.kind, step.name,
        step.occurrence, step.state, step.result, step.error, step.config, step.attempts,
        step.started_at, step.ended_at, step.wake_at, step.detail, step.scope, step.position)
    return bool(held)


async def finish(conn: Any, pk: int, finish: Finish, now: float, lease: int) -> str | None:
    """The status the instance ends in; None when the lease no longer holds."""
    async with conn.transaction():
        row = await conn.fetchrow("SELECT control, restart_from FROM instances "
                                  f"WHERE {_OWNED} FOR NO KEY UPDATE", pk, lease)
        if row is None:
            return None
        control, restart_from = row
        for step, consume_event in finish.steps:
            await write_step(conn, pk, step, consume_event, lease)
        if finish.logs:
            await conn.execute("INSERT INTO logs (instance_pk, at, line) SELECT $1, $2, "
                               "line FROM unnest($3::text[]) WITH ORDINALITY AS l(line, n) "
                               "ORDER BY n", pk, now, list(finish.logs))
        if control == "restart":
            await _restart(conn, pk, restart_from, now)
            return "queued"
        status, wake_at, paused_at = finish.status, finish.wake_at, None
        if status in ("waiting", "queued"):
            if control == "terminate":
                status, wake_at = "terminated", None
            elif control == "pause":
                status, wake_at, paused_at = "paused", None, now
            elif status == "waiting" and await conn.fetchval(
                    "SELECT 1 FROM events WHERE instance_pk = $1 AND seq > $2 "
                    "AND consumed_by IS NULL LIMIT 1", pk, finish.last_event_seq):
                wake_at = now  # an event arrived while it ran: look again
        await conn.execute(
            "UPDATE instances SET status = $1, wake_at = $2, output = $3, error = $4, "
            "control = NULL, restart_from = NULL, paused_at = $5, "
            "crashes = CASE WHEN $6 THEN LEAST(crashes, 1) ELSE 0 END, updated_at = $7, "
            "lease_owner = NULL, lease_expires = NULL WHERE pk = $8",
            status, wake_at, finish.output, finish.error, paused_at, finish.handed_back, now,
            pk)
        if status in TERMINAL_STATUSES:
            await instance_ended(conn, pk, status, now)
        return status


async def _locked_instance(conn: Any, agent_id: str, id: str) -> InstanceRecord:
    row = await conn.fetchrow(f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE agent_id = $1 "
                              "AND id = $2 FOR NO KEY UPDATE", agent_id, id)
    if row is None:
        raise InstanceNotFound(id)
    return decode_instance(row)


async def add_event(conn: Any, agent_id: str, id: str, type: str, payload: str, now: float,
                    channel: str) -> InstanceRecord:
    async with conn.transaction():
        record = await _locked_instance(conn, agent_id, id)
        if record.status in TERMINAL_STATUSES:
            raise InstanceNotActive(id, record.status, "send an event to")
        await conn.execute("INSERT INTO events (instance_pk, type, payload, created_at) "
                           "VALUES ($1, $2, $3, $4)", record.pk, type, payload, now)
        if record.status == "waiting":
            await conn.execute("UPDATE instances SET wake_at = $1, updated_at = $1 "
                               "WHERE pk = $2", now, record.pk)
            await conn.execute(notify(channel))
        return record


async def control(conn: Any, agent_id: str, id: str, op: str, now: float,
                  from_seq: int | None, channel: str) -> InstanceRecord:
    async with conn.transaction():
        record = await _locked_instance(conn, agent_id, id)
        status, pk = record.status, record.pk
        if op != "restart" and status in TERMINAL_STATUSES:
            raise InstanceNotActive(id, status, op)
        await _log_action(conn, record, op, now, from_seq)
        if status == "running":
            if op == "resume":
                await conn.execute("UPDATE instances SET control = NULL WHERE pk = $1 "
                                   "AND control = 'pause'", pk)
            else:
                await conn.execute("UPDATE instances SET control = $1, restart_from = $2, "
                                   "updated_at = $3 WHERE pk = $4", op, from_seq, now, pk)
        elif op == "pause" and status != "paused":
            await conn.execute("UPDATE instances SET status = 'paused', paused_at = $1, "
                               "wake_at = NULL, updated_at = $1 WHERE pk = $2", now, pk)
        elif op == "resume" and status == "paused":
            shift = now - (record.paused_at or now)
            await conn.execute("UPDATE steps SET wake_at = wake_at + $1 WHERE instance_pk = $2"
                               " AND wake_at IS NOT NULL AND state IN ('waiting', 'retrying')",
                               shift, pk)
            await conn.execute("UPDATE instances SET status = 'queued', paused_at = NULL, "
                               "wake_at = $1, updated_at = $1 WHERE pk = $2", now, pk)
        elif op == "terminate":
            await conn.execute("UPDATE instances SET status = 'terminated', wake_at = NULL, "
                               "control = NULL, updated_at = $1 WHERE pk = $2", now, pk)
            await instance_ended(conn, pk, "terminated", now)
        elif op == "restart":
            await _restart(conn, pk, from_seq, now)
        await conn.execute(notify(channel))  # resumed or restarted: due; running: look
        return await _locked_instance(conn, agent_id, id)


async def _log_action(conn: Any, record: InstanceRecord, op: str, now: float,
                      from_seq: int | None) -> None:
    detail: dict[str, Any] = {"was": record.status}
    if record.status == "running" and op != "resume":
        detail["deferred"] = True
    if op == "restart":
        step = None
        if from_seq is not None:
            row = await conn.fetchrow("SELECT name, occurrence FROM steps WHERE "
                                      "instance_pk = $1 AND seq = $2", record.pk, from_seq)
            step = {"seq": from_seq, "name": row[0] if row else None,
                    "occurrence": row[1] if row else None}
        detail["from_step"] = step
    await conn.execute("INSERT INTO audit (instance_pk, at, action, detail) VALUES "
                       "($1, $2, $3, $4)", record.pk, now, op, json.dumps(detail, default=str))


async def _restart(conn: Any, pk: int, from_seq: int | None, now: float) -> None:
    """As ``sqlite._restart``: discarded rows move under the restart's audit entry."""
    start = from_seq if isinstance(from_seq, int) and from_seq >= 0 else 0
    audit_seq = await conn.fetchval("SELECT MAX(seq) FROM audit WHERE instance_pk = $1 AND "
                                    "action = 'restart'", pk) or 0
    await conn.execute("DELETE FROM discarded_steps WHERE instance_pk = $1 AND audit_seq = $2 "
                       "AND seq >= $3", pk, audit_seq, start)
    await conn.execute(f"INSERT INTO discarded_steps (instance_pk, audit_seq, {STEP_COLUMNS}) "
                       f"SELECT instance_pk, $2, {STEP_COLUMNS} FROM steps WHERE "
                       "instance_pk = $1 AND seq >= $3", pk, audit_seq, start)
    await conn.execute("UPDATE events SET consumed_by = NULL WHERE instance_pk = $1 "
                       "AND consumed_by >= $2", pk, start)
    await conn.execute("DELETE FROM steps WHERE instance_pk = $1 AND seq >= $2", pk, start)
    await conn.execute(
        "UPDATE instances SET status = 'queued', wake_at = $1, output = NULL, error = NULL, "
        "control = NULL, restart_from = NULL, paused_at = NULL, crashes = 0, "
        "updated_at = $1, lease_owner = NULL, lease_expires = NULL WHERE pk = $2", now, pk)
