"""The shared store: PostgreSQL through asyncpg (extra ``[postgres]``, imported lazily).

Any number of worker processes on any number of machines share one database. The
PostgreSQL twin of ``sqlite.py``: the same ``Store`` protocol, the same tables (see
``_pg_schema.py``), the same guarded decoding (``_decode.py``), so one damaged row stays
one damaged instance here too.

**Leases instead of a file lock.** A claim (``_pg_claims.py``) marks an instance
``running`` with an owner, a fencing token and an expiry in database time. The engine
renews the leases it holds every ``lease_seconds / 3`` (``engine/_leases.py``); every
write of an activation names its token and is refused (``LeaseLost``, nothing written) once
the instance was reclaimed, so a worker that wakes from a SIGSTOP, a GC pause or a
partition commits nothing for instances another worker now runs. Any worker reclaims
expired leases at most every ``reclaim_every`` seconds while it claims, not only at
start, so a lost worker's instances resume elsewhere within about lease + poll interval.

Defaults and why: ``lease_seconds=10``. Renewal every 3.3 s survives two missed renewals
(a slow database, a long GC pause) before anyone may take over; 10 s bounds how long a
dead worker's instances stand still. Shorter leases fail over faster but renew more
often (one ``UPDATE`` per worker per renewal, whatever it runs) and make a paused worker
lose its claims sooner; longer ones do the reverse. Renewals go over the LISTEN
connection when there is one, so a pool busy with slow queries cannot hold them back. A
live worker that learns it lost leases anyway clears the crash the reclaim counted.

**Wake-ups.** A worker LISTENs on a dedicated connection (not from the pool, so a
transaction-mode pooler in front of the pool keeps working). Creating instances, adding
events and control requests NOTIFY; step commits never do (a NOTIFY takes a database-wide
lock at commit). Notifications are a latency hint: the engine polls every
``poll_interval`` whatever arrives.

Connection URL: ``postgresql://user@host:5432/db?schema=NAME&lease=10&pool=10``;
``schema`` (created if missing), ``lease`` (seconds) and ``pool`` (connections) are read
by agents_durable, every other parameter goes to asyncpg.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import anyio

from agents_durable.errors import (
    CorruptRecord,
    EngineClosed,
    LeaseLost,
    StoreUnavailable,
    UsageError,
)
from agents_durable.store import _pg_children as children
from agents_durable.store import _pg_claims as claims
from agents_durable.store import _pg_evolution as evolution
from agents_durable.store import _pg_operating as operating
from agents_durable.store import _pg_ops as ops
from agents_durable.store import _pg_schedules as schedules
from agents_durable.store._decode import decode_instance, decode_plan_version
from agents_durable.store._group_commit import GroupCommit, Pending
from agents_durable.store._pg_ops import INSTANCE_COLUMNS, PLAN_COLUMNS, unavailable
from agents_durable.store._pg_schema import migrate
from agents_durable.store._records import (
    AuditRecord,
    DiscardedStepRecord,
    EventRecord,
    Finish,
    InstanceRecord,
    Journal,
    LogRecord,
    NewInstance,
    PlanVersionRecord,
    ScheduleRecord,
    StepRecord,
    TokenRecord,
)

__all__ = ["PostgresStore", "store_for"]

logger = logging.getLogger("agents_durable")


class PostgresStore:
    """``Store`` on a PostgreSQL database (or one schema of it); see the module docstring."""

    def __init__(self, dsn: str, *, schema: str | None = None, lease_seconds: float = 10.0,
                 pool_size: int = 10, reclaim_every: float = 0.5) -> None:
        if lease_seconds <= 0:
            raise UsageError("the lease must be longer than 0 seconds")
        if pool_size < 2:
            raise UsageError("the PostgreSQL pool needs at least 2 connections")
        self.dsn = dsn
        self.schema = schema
        #: Seconds a claim holds without renewal (see the module docstring).
        self.lease_seconds: float | None = lease_seconds
        self.pool_size = pool_size
        #: Real seconds between two scans for expired leases of this worker.
        self.reclaim_every = reclaim_every
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.where = _redacted(dsn) + (f" (schema {schema})" if schema else "")
        self.channel = "agents_durable_" + hashlib.sha1(
            (schema or "").encode()).hexdigest()[:16]
        self._pool: Any = None
        self._listener: Any = None
        self._wake: Callable[[], None] | None = None
        self._worker = False
        self._quarantine_after = 2
        self._reclaimed_at = 0.0
        self._listen_retry_at = 0.0
        self._commits = GroupCommit(self._commit_batch)

    # -- lifecycle ---------------------------------------------------------------------------

    def _settings(self) -> dict[str, str]:
        settings = {"application_name": "agents_durable"}
        if self.schema is not None:
            settings["search_path"] = ops.quote_ident(self.schema)
        return settings

    async def open(self, *, worker: bool) -> None:
        try:
            import asyncpg  # type: ignore[import-untyped]
        except ImportError:
            raise UsageError("the PostgreSQL store needs asyncpg: pip install "
                             "'agents-durable[postgres]'") from None
        self._worker = worker
        try:
            with _translated(self.where):
                self._pool = await asyncpg.create_pool(
                    self.dsn, min_size=1, max_size=self.pool_size,
                    server_settings=self._settings())
                async with self._pool.acquire() as conn:
                    await migrate(conn, self.schema, self.where)
            if worker:
                await self._listen()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await pool.close()
            pool.terminate()

    def set_waker(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    async def _listen(self) -> None:
        """LISTEN on a connection of its own; a lost one is reopened by later claims."""
        import asyncpg

        self._listen_retry_at = time.monotonic() + 5.0
        try:
            conn = await asyncpg.connect(self.dsn, server_settings=self._settings())
            await conn.add_listener(self.channel, self._notified)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("cannot LISTEN for wake-ups on %s (%s); polling only until it "
                           "works", self.where, error)
            return
        self._listener = conn

    def _notified(self, *_: Any) -> None:
        if self._wake is not None:
            self._wake()

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[Any]:
        pool = self._pool
        if pool is None:
            raise EngineClosed("the store is closed")
        with _translated(self.where):
            async with pool.acquire() as conn:
                yield conn

    async def _run(self, fn: Callable[..., Any], *args: Any, shield: bool = False) -> Any:
        """``fn(conn, *args)`` on a pooled connection; a write can be shielded from
        cancellation so that its outcome is known (committed or not) when this returns."""
        if not shield:
            async with self._conn() as conn:
                return await fn(conn, *args)
        with anyio.CancelScope(shield=True):
            async with self._conn() as conn:
                return await fn(conn, *args)

    # -- plan versions -------------------------------------------------------------------------

    async def put_plan_version(self, agent_id: str, name: str, hash: str, source: str,
                               description: str, outline: str, policy: str,
                               now: float) -> tuple[PlanVersionRecord, bool]:
        return await self._run(ops.put_plan_version, agent_id, name, hash, source,  # type: ignore[no-any-return]
                               description, outline, policy, now)

    async def get_plan_version(self, agent_id: str, *, name: str | None = None,
                               version: int | None = None,
                               hash: str | None = None) -> PlanVersionRecord | None:
        base = f"SELECT {PLAN_COLUMNS} FROM plan_versions WHERE agent_id = $1"
        args: tuple[Any, ...]
        if hash is not None:
            sql, args = base + " AND hash = $2 ORDER BY created_at DESC LIMIT 1", (hash,)
        elif version is not None:
            sql, args = base + " AND name = $2 AND version = $3", (name, version)
        else:
            sql, args = base + " AND name = $2 ORDER BY version DESC LIMIT 1", (name,)
        async with self._conn() as conn:
            row = await conn.fetchrow(sql, agent_id, *args)
        return decode_plan_version(row) if row else None

    async def list_plan_versions(self, agent_id: str,
                                 name: str | None = None) -> list[PlanVersionRecord]:
        base = f"SELECT {PLAN_COLUMNS} FROM plan_versions WHERE agent_id = $1"
        async with self._conn() as conn:
            if name is None:
                rows = await conn.fetch(base + " ORDER BY name, version", agent_id)
            else:
                rows = await conn.fetch(base + " AND name = $2 ORDER BY version", agent_id,
                                        name)
        return [decode_plan_version(row) for row in rows]

    async def get_plan_by_hash(self, hash: str) -> PlanVersionRecord | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(
                f"SELECT {PLAN_COLUMNS} FROM plan_versions WHERE hash = $1 LIMIT 1", hash)
        if not row:
            return None
        record = decode_plan_version(row)
        if record.corrupt is not None:
            raise CorruptRecord(f"plan version {hash[:12]} cannot be compiled: "
                                f"{record.corrupt}. Restore the row from a backup, or "
                                "register the plan again and start new instances")
        return record

    # -- instances --------------------------------------------------------------------------------

    async def create_instances(self, instances: Sequence[NewInstance]) -> None:
        await self._run(ops.create_instances, list(instances), self.channel)

    async def get_instance(self, agent_id: str, id: str) -> InstanceRecord | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(f"SELECT {INSTANCE_COLUMNS} FROM instances "
                                      "WHERE agent_id = $1 AND id = $2", agent_id, id)
        return decode_instance(row) if row else None

    async def list_instances(self, agent_id: str, *, status: str | None, plan: str | None,
                             limit: int, after: int | None) -> list[InstanceRecord]:
        clauses: list[str] = ["agent_id = $1"]
        args: list[Any] = [agent_id]
        for clause, value in (("status = ", status), ("plan_name = ", plan),
                              ("pk < ", after)):
            if value is not None:
                args.append(value)
                clauses.append(f"{clause}${len(args)}")
        args.append(limit)
        async with self._conn() as conn:
            rows = await conn.fetch(
                f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE {' AND '.join(clauses)} "
                f"ORDER BY pk DESC LIMIT ${len(args)}", *args)
        return [decode_instance(row) for row in rows]

    async def history(self, pk: int) -> tuple[list[StepRecord], list[EventRecord],
                                              list[LogRecord]]:
        return await self._run(ops.history, pk)  # type: ignore[no-any-return]

    async def audit(self, pk: int) -> tuple[list[AuditRecord], list[DiscardedStepRecord]]:
        return await self._run(ops.audit, pk)  # type: ignore[no-any-return]

    # -- running --------------------------------------------------------------------------------

    async def recover(self, now: float, quarantine_after: int) -> tuple[int, int]:
        """Release (or quarantine) the instances whose lease expired; live workers keep
        theirs. ``claim_due`` goes on doing this every ``reclaim_every`` seconds."""
        self._quarantine_after = quarantine_after
        self._reclaimed_at = time.monotonic()
        return await self._run(claims.reclaim, now, quarantine_after)  # type: ignore[no-any-return]

    async def claim_due(self, now: float, limit: int, *, per_agent: int | None = None,
                        running: Mapping[str, int] | None = None,
                        exclude: Collection[str] = (),
                        suspects: int | None = None) -> list[InstanceRecord]:
        if self._worker and self._listener is None and time.monotonic() >= \
                self._listen_retry_at:
            await self._listen()
        if time.monotonic() - self._reclaimed_at >= self.reclaim_every:
            self._reclaimed_at = time.monotonic()
            released, quarantined = await self._run(claims.reclaim, now,
                                                    self._quarantine_after)
            if released or quarantined:
                logger.warning("reclaimed %d instance(s) whose lease expired; quarantined %d",
                               released, quarantined)
        assert self.lease_seconds is not None
        records: list[InstanceRecord] = await self._run(
            claims.claim_due, now, limit, per_agent, dict(running or {}), sorted(exclude),
            suspects, self.owner, self.lease_seconds, shield=True)
        return records

    async def next_due(self, after: float | None = None) -> float | None:
        async with self._conn() as conn:
            value = await conn.fetchval(
                "SELECT min(wake_at) FROM instances WHERE status IN ('queued', 'waiting') "
                "AND wake_at IS NOT NULL AND wake_at > $1",
                float("-inf") if after is None else after)
        return float(value) if value is not None else None

    async def mark_probing(self, pk: int) -> None:
        async with self._conn() as conn:
            await conn.execute("UPDATE instances SET crashes = crashes + 1 "
                               "WHERE pk = $1 AND crashes > 0", pk)

    async def pending_controls(self, pks: Sequence[int]) -> list[tuple[int, str]]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT pk, control FROM instances WHERE status = 'running' AND control IN "
                "('terminate', 'restart') AND pk = ANY($1::bigint[])", list(pks))
        return [(int(pk), str(op)) for pk, op in rows]

    async def load_journal(self, pk: int) -> Journal:
        journals, refused = await self._run(ops.load_journals, [pk])
        if pk in refused:
            raise refused[pk]
        return journals[pk]  # type: ignore[no-any-return]

    async def load_journals(self, pks: Sequence[int]) -> dict[int, Journal]:
        journals, _ = await self._run(ops.load_journals, list(pks))
        return journals  # type: ignore[no-any-return]

    async def record_step(self, pk: int, step: StepRecord, *,
                          consume_event: int | None = None, lease: int = 0) -> None:
        if not await self._group_commit(ops.write_step, pk, step, consume_event, lease):
            raise _lost(pk)

    async def finish(self, pk: int, finish: Finish, now: float, *, lease: int = 0) -> str:
        status: str | None = await self._group_commit(ops.finish, pk, finish, now, lease)
        if status is None:
            raise _lost(pk)
        return status

    async def _group_commit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(conn, *args)`` in a shared transaction; return once it committed.

        As in ``sqlite.py``: the first writer to find no commit in progress commits
        everything queued, batch after batch, one transaction (one WAL flush) per batch;
        nobody is released before the transaction holding their write has committed. A
        batch that fails is retried one operation per transaction, so one failing write
        fails alone. A refused lease is no failure (the operation reports it).
        """
        return await self._commits.submit(fn, args)

    async def _commit_batch(self, batch: list[Pending]) -> None:
        try:
            async with self._conn() as conn, conn.transaction():
                outcomes = [await fn(conn, *args) for fn, args, _ in batch]
        except Exception as error:
            if len(batch) == 1:
                if not batch[0][2].done():
                    batch[0][2].set_exception(error)
                return
            for fn, args, done in batch:  # alone, so that only the failing one fails
                try:
                    result = await self._run(fn, *args)
                except Exception as alone:
                    if not done.done():
                        done.set_exception(alone)
                else:
                    if not done.done():
                        done.set_result(result)
            return
        for (*_, done), value in zip(batch, outcomes, strict=True):
            if not done.done():
                done.set_result(value)

    async def renew(self, leases: Mapping[int, int]) -> list[int]:
        """Renew on the LISTEN connection when there is one: a pool whose connections are
        all busy (slow queries of many activations) must not delay a renewal past the
        lease, or a live worker loses its instances."""
        if not leases:
            return []
        assert self.lease_seconds is not None
        listener = self._listener
        if listener is not None and not listener.is_closed():
            with contextlib.suppress(OSError, TimeoutError, *_listener_errors()), \
                    _translated(self.where):
                return await claims.renew(listener, dict(leases), self.lease_seconds)
        return await self._run(claims.renew, dict(leases), self.lease_seconds)  # type: ignore[no-any-return]

    async def agent_storage_bytes(self, agent_id: str) -> int:
        return await self._run(ops.agent_storage_bytes, agent_id)  # type: ignore[no-any-return]

    # -- control --------------------------------------------------------------------------------

    async def add_event(self, agent_id: str, id: str, type: str, payload: str,
                        now: float) -> InstanceRecord:
        return await self._run(ops.add_event, agent_id, id, type, payload, now,  # type: ignore[no-any-return]
                               self.channel)

    async def control(self, agent_id: str, id: str, op: str, now: float,
                      from_seq: int | None = None) -> InstanceRecord:
        return await self._run(ops.control, agent_id, id, op, now, from_seq,  # type: ignore[no-any-return]
                               self.channel)

    # -- operating: agents, retention, API tokens (see _pg_operating) --------------------------

    async def list_agents(self) -> list[str]:
        return await self._run(operating.list_agents)  # type: ignore[no-any-return]

    async def count_instances(self) -> list[tuple[str, str, int]]:
        return await self._run(operating.count_instances)  # type: ignore[no-any-return]

    async def delete_instance(self, agent_id: str, id: str) -> None:
        await self._run(operating.delete_instance, agent_id, id, shield=True)

    async def purge_instances(self, cutoffs: Mapping[str, float], *,
                              agent_id: str | None = None,
                              limit: int = 100) -> list[tuple[str, str]]:
        return await self._run(operating.purge_instances, dict(cutoffs), agent_id, limit,  # type: ignore[no-any-return]
                               shield=True)

    async def put_token(self, id: str, token_hash: str, agent_id: str | None, role: str,
                        label: str, now: float) -> TokenRecord:
        return await self._run(operating.put_token, id, token_hash, agent_id, role, label,  # type: ignore[no-any-return]
                               now)

    async def find_token(self, token_hash: str) -> TokenRecord | None:
        return await self._run(operating.find_token, token_hash)  # type: ignore[no-any-return]

    async def list_tokens(self) -> list[TokenRecord]:
        return await self._run(operating.list_tokens)  # type: ignore[no-any-return]

    async def revoke_token(self, id: str, now: float) -> bool:
        return await self._run(operating.revoke_token, id, now)  # type: ignore[no-any-return]

    # -- plan evolution: upgrades, forks, child plans, schedules ---------------------------

    async def upgrade_instance(self, agent_id: str, id: str, *, from_hash: str,
                               to: tuple[str, int, str],
                               journal: Sequence[tuple[int, str, int]], now: float) -> str:
        return await self._run(evolution.upgrade_instance, agent_id, id, from_hash, to,  # type: ignore[no-any-return]
                               list(journal), now, shield=True)

    async def fork_instance(self, source_id: str, new: NewInstance,
                            steps: Sequence[StepRecord], *, from_step: dict[str, Any] | None,
                            now: float) -> None:
        await self._run(evolution.fork_instance, source_id, new, list(steps), from_step, now,
                        self.channel, shield=True)

    async def start_child(self, parent_pk: int, new: NewInstance, *, keep: bool) -> bool:
        return await self._run(children.start_child, parent_pk, new, keep, self.channel,  # type: ignore[no-any-return]
                               shield=True)

    async def put_schedule(self, record: ScheduleRecord) -> None:
        await self._run(schedules.put_schedule, record)

    async def get_schedules(self, agent_id: str,
                            name: str | None = None) -> list[ScheduleRecord]:
        return await self._run(schedules.get_schedules, agent_id, name)  # type: ignore[no-any-return]

    async def set_schedule_paused(self, agent_id: str, name: str, paused: bool,
                                  next_at: float | None) -> bool:
        return await self._run(schedules.set_paused, agent_id, name, paused, next_at)  # type: ignore[no-any-return]

    async def delete_schedule(self, agent_id: str, name: str) -> bool:
        return await self._run(schedules.delete_schedule, agent_id, name)  # type: ignore[no-any-return]

    async def due_schedules(self, now: float) -> list[ScheduleRecord]:
        return await self._run(schedules.due_schedules, now)  # type: ignore[no-any-return]

    async def next_schedule_at(self) -> float | None:
        return await self._run(schedules.next_schedule_at)  # type: ignore[no-any-return]

    async def schedule_active(self, agent_id: str, name: str) -> bool:
        return await self._run(schedules.schedule_active, agent_id, name)  # type: ignore[no-any-return]

    async def fire_schedule(self, agent_id: str, name: str, *, expected_next_at: float,
                            instances: Sequence[NewInstance], next_at: float | None,
                            held: float | None) -> list[str]:
        return await self._run(schedules.fire, agent_id, name, expected_next_at,  # type: ignore[no-any-return]
                               list(instances), next_at, held, self.channel, shield=True)


def _listener_errors() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, StoreUnavailable)


def _lost(pk: int) -> LeaseLost:
    return LeaseLost(f"instance #{pk} was claimed by another worker after this worker's "
                     "lease expired; nothing was written, the new owner replays it")


@contextlib.contextmanager
def _translated(where: str) -> Any:
    """asyncpg's connection and resource errors as ``StoreUnavailable``."""
    try:
        yield
    except Exception as error:
        converted = unavailable(error, where)
        if converted is error:
            raise
        raise converted from error


def _redacted(dsn: str) -> str:
    parts = urlsplit(dsn)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, "", ""))


def store_for(url: str, *, lease_seconds: float | None = None,
              pool_size: int | None = None) -> PostgresStore:
    """A PostgreSQL store for a ``postgresql://`` URL (see the module docstring)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    schema = query.pop("schema", None) or None
    try:
        lease = float(query.pop("lease", lease_seconds or 10.0))
        pool = int(query.pop("pool", pool_size or 10))
    except ValueError as error:
        raise UsageError(f"bad agents_durable parameter in the database URL: {error}") from None
    dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    return PostgresStore(dsn, schema=schema, lease_seconds=lease, pool_size=pool)
