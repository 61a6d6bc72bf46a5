"""The embedded default store: SQLite through aiosqlite.

WAL journal, ``synchronous=NORMAL`` (a committed transaction survives a process crash,
which is the failure this engine is built for; a power cut may lose the last commits but
never corrupts the file), one connection, explicit ``BEGIN IMMEDIATE`` transactions,
a busy timeout, and migrations as an append-only list keyed by ``PRAGMA user_version``.

One engine process owns a database file at a time: a worker takes an exclusive
``flock`` on ``<file>.lock`` and a second worker gets ``EngineLocked`` instead of two
schedulers racing on the same rows. Clients (``worker=False``) share the file freely.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from agents_durable.errors import (
    CorruptRecord,
    EngineClosed,
    EngineLocked,
    InstanceExists,
    InstanceNotActive,
    InstanceNotFound,
    StoreError,
    StoreUnavailable,
)
from agents_durable.store import _sqlite_operating as operating
from agents_durable.store import _sqlite_schedules as schedules
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
from agents_durable.store._group_commit import GroupCommit, Pending
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
    ScheduleRecord,
    StepRecord,
    TokenRecord,
)
from agents_durable.store._recovery import quarantine_error, split_suspects
from agents_durable.store._schema import check_existing, migrate, transaction
from agents_durable.store._sqlite_batch import STEP_COLUMNS, finish_many, step_row
from agents_durable.store._sqlite_children import instance_ended, start_child
from agents_durable.store._sqlite_evolution import (
    JournalFingerprint,
    fork_instance,
    upgrade_instance,
)

__all__ = ["SQLiteStore"]

T = TypeVar("T")


_INSTANCE_COLUMNS = ("pk, agent_id, id, plan_name, plan_version, plan_hash, params, status, "
                     "output, error, created_at, updated_at, wake_at, control, paused_at, "
                     "crashes")
_STEP_COLUMNS = STEP_COLUMNS
_PLAN_COLUMNS = ("agent_id, name, version, hash, source, description, outline, policy, "
                 "created_at")


def _instance(row: Any) -> InstanceRecord:
    return decode_instance(row)  # never raises: a damaged row reads as a corrupt record


#: What the database (or the file system under it) raises when it cannot do its job right
#: now: disk full, locked past the busy timeout, I/O errors. Constraint and programming
#: errors are bugs and stay as they are.
_UNAVAILABLE = (sqlite3.OperationalError, sqlite3.DatabaseError, OSError)
_BUGS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)


def unavailable(error: BaseException, path: str) -> BaseException:
    """``StoreUnavailable`` for an infrastructure failure, else ``error`` unchanged."""
    if isinstance(error, StoreUnavailable) or not isinstance(error, _UNAVAILABLE) or \
            isinstance(error, _BUGS):
        return error
    wrapped = StoreUnavailable(
        f"the database {path!r} failed: {type(error).__name__}: {error}. Nothing was "
        "written; the engine retries by itself, a host call may be retried once the disk "
        "has room or the lock is released")
    wrapped.__cause__ = error
    return wrapped


def _one(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    return conn.execute(sql, params).fetchone()


class SQLiteStore:
    """``Store`` on one SQLite file (or ``:memory:``).

    Every operation is one function run on aiosqlite's connection thread: one thread hop,
    one transaction, no lock held across awaits. Journal writes from concurrent
    activations are group-committed: while one batch commits, the next collects, and
    each writer is released only after the transaction holding its row has committed.
    """

    #: The worker's ``flock`` is its lease: held until the process ends, never expiring,
    #: so fencing tokens are accepted as they come (no other worker can hold the file).
    lease_seconds: float | None = None

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 10.0) -> None:
        self.path = str(path)
        #: Seconds a write waits for another connection's lock before it fails with
        #: ``StoreUnavailable`` (the engine then retries it with backoff).
        self.busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._lock_fd: int | None = None
        self._commits = GroupCommit(self._commit_batch)

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self, *, worker: bool) -> None:
        existed = self.path != ":memory:" and os.path.exists(self.path)  # noqa: ASYNC240
        if worker and self.path != ":memory:":
            self._take_lock()
        try:
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            if existed:
                await self._call(check_existing, self.path)
            await self._call(_configure, self.path != ":memory:", self.busy_timeout)
            await self._call(migrate, self.path)
        except BaseException:
            await self.close()
            raise

    def _take_lock(self) -> None:
        import fcntl

        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise EngineLocked(
                f"another engine worker is already running on {self.path!r}; open this "
                "engine with worker=False to use it as a client, or stop the other worker"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(connection, *args)`` on the connection's thread, in one hop.

        aiosqlite runs every operation of a connection on one thread; ``_execute`` is how
        its own methods queue work there (stable since aiosqlite 0.11). Running a whole
        transaction as one function keeps it to one hop and needs no lock across awaits.
        """
        db = self._db
        if db is None:
            raise EngineClosed("the store is closed")
        try:
            return await db._execute(fn, db._conn, *args)  # type: ignore[no-any-return,no-untyped-call]
        except _UNAVAILABLE as error:
            converted = unavailable(error, self.path)
            if converted is error:
                raise
            raise converted from error

    # -- plan versions -------------------------------------------------------------------------

    async def put_plan_version(self, agent_id: str, name: str, hash: str, source: str,
                               description: str, outline: str, policy: str,
                               now: float) -> tuple[PlanVersionRecord, bool]:
        return await self._call(_put_plan_version, agent_id, name, hash, source, description,
                                outline, policy, now)

    async def get_plan_version(self, agent_id: str, *, name: str | None = None,
                               version: int | None = None,
                               hash: str | None = None) -> PlanVersionRecord | None:
        if hash is not None:
            sql = (f"SELECT {_PLAN_COLUMNS} FROM plan_versions WHERE agent_id = ? AND hash = ?"
                   " ORDER BY created_at DESC LIMIT 1")
            params: tuple[Any, ...] = (agent_id, hash)
        elif version is not None:
            sql = (f"SELECT {_PLAN_COLUMNS} FROM plan_versions WHERE agent_id = ? AND name = ?"
                   " AND version = ?")
            params = (agent_id, name, version)
        else:
            sql = (f"SELECT {_PLAN_COLUMNS} FROM plan_versions WHERE agent_id = ? AND name = ?"
                   " ORDER BY version DESC LIMIT 1")
            params = (agent_id, name)
        row = await self._call(_one, sql, params)
        return decode_plan_version(row) if row else None

    async def list_plan_versions(self, agent_id: str,
                                 name: str | None = None) -> list[PlanVersionRecord]:
        if name is None:
            sql = (f"SELECT {_PLAN_COLUMNS} FROM plan_versions WHERE agent_id = ? "
                   "ORDER BY name, version")
            params: tuple[Any, ...] = (agent_id,)
        else:
            sql = (f"SELECT {_PLAN_COLUMNS} FROM plan_versions WHERE agent_id = ? AND name = ? "
                   "ORDER BY version")
            params = (agent_id, name)
        rows = await self._call(_all, sql, params)
        return [decode_plan_version(row) for row in rows]

    async def get_plan_by_hash(self, hash: str) -> PlanVersionRecord | None:
        row = await self._call(
            _one, f"SELECT {_PLAN_COLUMNS} FROM plan_versions WHERE hash = ? LIMIT 1", (hash,))
        if not row:
            return None
        record = decode_plan_version(row)
        if record.corrupt is not None:  # the engine compiles this: refuse it by column
            raise CorruptRecord(f"plan version {hash[:12]} cannot be compiled: "
                                f"{record.corrupt}. Restore the row from a backup, or "
                                "register the plan again and start new instances")
        return record

    # -- instances --------------------------------------------------------------------------------

    async def create_instances(self, instances: Sequence[NewInstance]) -> None:
        await self._call(_create_instances, list(instances))

    async def get_instance(self, agent_id: str, id: str) -> InstanceRecord | None:
        row = await self._call(
            _one, f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE agent_id = ? AND id = ?",
            (agent_id, id))
        return _instance(row) if row else None

    async def list_instances(self, agent_id: str, *, status: str | None, plan: str | None,
                             limit: int, after: int | None) -> list[InstanceRecord]:
        clauses: list[str] = ["agent_id = ?"]
        params: list[Any] = [agent_id]
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if plan is not None:
            clauses.append("plan_name = ?")
            params.append(plan)
        if after is not None:
            clauses.append("pk < ?")
            params.append(after)
        rows = await self._call(
            _all, f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE {' AND '.join(clauses)} "
            "ORDER BY pk DESC LIMIT ?", (*params, limit))
        return [_instance(row) for row in rows]

    async def history(self, pk: int) -> tuple[list[StepRecord], list[EventRecord],
                                              list[LogRecord]]:
        return await self._call(_history, pk)

    async def audit(self, pk: int) -> tuple[list[AuditRecord], list[DiscardedStepRecord]]:
        return await self._call(_audit, pk)

    # -- running --------------------------------------------------------------------------------

    async def recover(self, now: float, quarantine_after: int) -> tuple[int, int]:
        return await self._call(_recover, now, quarantine_after)

    async def claim_due(self, now: float, limit: int, *, per_agent: int | None = None,
                        running: Mapping[str, int] | None = None,
                        exclude: Collection[str] = (),
                        suspects: int | None = None) -> list[InstanceRecord]:
        rows = await self._call(_claim_due, now, limit, per_agent, dict(running or {}),
                                sorted(exclude), suspects)
        records = [_instance(row) for row in rows]
        records.sort(key=lambda r: (r.wake_at or 0.0, r.pk))
        return records

    async def next_due(self, after: float | None = None) -> float | None:
        row = await self._call(
            _one, "SELECT MIN(wake_at) FROM instances WHERE wake_at IS NOT NULL "
            "AND status IN ('queued', 'waiting') AND typeof(wake_at) IN ('integer', 'real') "
            "AND wake_at > ?", (float("-inf") if after is None else after,))
        return float(row[0]) if row and row[0] is not None else None

    async def mark_probing(self, pk: int) -> None:
        await self._call(_mark_probing, pk)

    async def pending_controls(self, pks: Sequence[int]) -> list[tuple[int, str]]:
        rows = await self._call(
            _all, "SELECT pk, control FROM instances WHERE status = 'running' AND control IN "
            "('terminate', 'restart') AND pk IN (SELECT value FROM json_each(?))",
            (json.dumps(list(pks)),))
        return [(int(pk), str(op)) for pk, op in rows]

    async def load_journal(self, pk: int) -> Journal:
        journals, refused = await self._call(_load_journals, [pk])
        if pk in refused:
            raise refused[pk]
        return journals[pk]

    async def load_journals(self, pks: Sequence[int]) -> dict[int, Journal]:
        # An instance with a damaged row is left out: its activation then loads it alone
        # (``load_journal``) and is errored with the ``CorruptRecord`` that raises.
        journals, _ = await self._call(_load_journals, list(pks))
        return journals

    async def record_step(self, pk: int, step: StepRecord, *,
                          consume_event: int | None = None, lease: int = 0) -> None:
        await self._group_commit(_write_step, step_row(pk, step), consume_event)

    async def finish(self, pk: int, finish: Finish, now: float, *, lease: int = 0) -> str:
        return await self._group_commit(_finish_in, pk, finish, now)

    async def renew(self, leases: Mapping[int, int]) -> list[int]:
        return []  # the file lock never expires while this process lives

    def set_waker(self, wake: Callable[[], None]) -> None:
        """Nothing to listen to: other processes' work is found by polling."""

    async def _group_commit(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(connection, *args)`` in a shared transaction; return once it committed.

        The first writer to find no commit in progress becomes the leader: it commits
        everything queued, batch after batch, one transaction (one thread hop) per batch,
        each operation under its own savepoint so that one failing operation fails alone.
        Nobody is released before the transaction holding their write has committed.
        """
        return await self._commits.submit(fn, args)  # type: ignore[no-any-return]

    async def _commit_batch(self, batch: list[Pending]) -> None:
        try:
            outcomes = await self._call(_run_batch, [(fn, args) for fn, args, _ in batch])
        except Exception as error:
            outcomes = [(False, error)] * len(batch)
        except BaseException as error:
            for *_, done in batch:
                if not done.done():
                    done.set_exception(StoreError(f"the write was interrupted: {error!r}"))
            raise
        for (*_, done), (ok, value) in zip(batch, outcomes, strict=True):
            if done.done():
                continue
            if ok:
                done.set_result(value)
            else:
                done.set_exception(unavailable(value, self.path))

    # -- control ----------------------------------------------------------------------------------

    async def agent_storage_bytes(self, agent_id: str) -> int:
        return await self._call(_agent_storage_bytes, agent_id)

    async def put_schedule(self, record: ScheduleRecord) -> None:
        await self._call(schedules.put_schedule, record)

    async def get_schedules(self, agent_id: str,
                            name: str | None = None) -> list[ScheduleRecord]:
        return await self._call(schedules.get_schedules, agent_id, name)

    async def set_schedule_paused(self, agent_id: str, name: str, paused: bool,
                                  next_at: float | None) -> bool:
        return await self._call(schedules.set_paused, agent_id, name, paused, next_at)

    async def delete_schedule(self, agent_id: str, name: str) -> bool:
        return await self._call(schedules.delete_schedule, agent_id, name)

    async def due_schedules(self, now: float) -> list[ScheduleRecord]:
        return await self._call(schedules.due_schedules, now)

    async def next_schedule_at(self) -> float | None:
        return await self._call(schedules.next_schedule_at)

    async def schedule_active(self, agent_id: str, name: str) -> bool:
        return await self._call(schedules.schedule_active, agent_id, name)

    async def fire_schedule(self, agent_id: str, name: str, *, expected_next_at: float,
                            instances: Sequence[NewInstance], next_at: float | None,
                            held: float | None) -> list[str]:
        return await self._call(schedules.fire, agent_id, name, expected_next_at,
                                list(instances), next_at, held)

    async def start_child(self, parent_pk: int, new: NewInstance, *, keep: bool) -> bool:
        return await self._call(start_child, parent_pk, new, keep)

    async def upgrade_instance(self, agent_id: str, id: str, *, from_hash: str,
                               to: tuple[str, int, str], journal: JournalFingerprint,
                               now: float) -> str:
        return await self._call(upgrade_instance, agent_id, id, from_hash, to, list(journal),
                                now)

    async def fork_instance(self, source_id: str, new: NewInstance,
                            steps: Sequence[StepRecord], *, from_step: dict[str, Any] | None,
                            now: float) -> None:
        await self._call(fork_instance, source_id, new, list(steps), from_step, now)

    async def add_event(self, agent_id: str, id: str, type: str, payload: str,
                        now: float) -> InstanceRecord:
        return await self._call(_add_event, agent_id, id, type, payload, now)

    async def control(self, agent_id: str, id: str, op: str, now: float,
                      from_seq: int | None = None) -> InstanceRecord:
        return await self._call(_control, agent_id, id, op, now, from_seq)

    # -- operating: agents, retention, API tokens (see _sqlite_operating) ----------------------

    async def list_agents(self) -> list[str]:
        return await self._call(operating.list_agents)

    async def count_instances(self) -> list[tuple[str, str, int]]:
        return await self._call(operating.count_instances)

    async def delete_instance(self, agent_id: str, id: str) -> None:
        await self._call(operating.delete_instance, agent_id, id)

    async def purge_instances(self, cutoffs: Mapping[str, float], *,
                              agent_id: str | None = None,
                              limit: int = 100) -> list[tuple[str, str]]:
        return await self._call(operating.purge_instances, dict(cutoffs), agent_id, limit)

    async def put_token(self, id: str, token_hash: str, agent_id: str | None, role: str,
                        label: str, now: float) -> TokenRecord:
        return await self._call(operating.put_token, id, token_hash, agent_id, role, label,
                                now)

    async def find_token(self, token_hash: str) -> TokenRecord | None:
        return await self._call(operating.find_token, token_hash)

    async def list_tokens(self) -> list[TokenRecord]:
        return await self._call(operating.list_tokens)

    async def revoke_token(self, id: str, now: float) -> bool:
        return await self._call(operating.revoke_token, id, now)


# -- the transactions, run on the connection thread ------------------------------------------


def _all(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def _configure(conn: sqlite3.Connection, wal: bool, busy_timeout: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {max(0, int(busy_timeout * 1000))}")
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def _put_plan_version(conn: sqlite3.Connection, agent_id: str, name: str, hash: str,
                      source: str, description: str, outline: str, policy: str,
                      now: float) -> tuple[PlanVersionRecord, bool]:
    with transaction(conn):
        row = _one(conn, f"SELECT {_PLAN_COLUMNS} FROM plan_versions "
                         "WHERE agent_id = ? AND name = ? AND hash = ?", (agent_id, name, hash))
        if row is not None:
            return decode_plan_version(row), False
        (latest,) = _one(conn, "SELECT COALESCE(MAX(version), 0) FROM plan_versions "
                               "WHERE agent_id = ? AND name = ?", (agent_id, name))
        record = PlanVersionRecord(agent_id, name, latest + 1, hash, source, description,
                                   outline, policy, now)
        conn.execute(f"INSERT INTO plan_versions ({_PLAN_COLUMNS}) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (agent_id, name, record.version, hash, source, description, outline,
                      policy, now))
        return record, True


def _create_instances(conn: sqlite3.Connection, instances: list[NewInstance]) -> None:
    with transaction(conn):
        for new in instances:
            if _one(conn, "SELECT 1 FROM instances WHERE agent_id = ? AND id = ?",
                    (new.agent_id, new.id)) is not None:
                raise InstanceExists(new.id)
        conn.executemany(
            "INSERT INTO instances (agent_id, id, plan_name, plan_version, plan_hash, "
            "params, status, created_at, updated_at, wake_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
            [(new.agent_id, new.id, new.plan_name, new.plan_version, new.plan_hash,
              new.params, new.created_at, new.created_at, new.created_at)
             for new in instances])


def _history(conn: sqlite3.Connection, pk: int) -> tuple[list[StepRecord], list[EventRecord],
                                                          list[LogRecord]]:
    steps = conn.execute(f"SELECT {_STEP_COLUMNS} FROM steps WHERE instance_pk = ? "
                         "ORDER BY seq", (pk,)).fetchall()
    events = conn.execute("SELECT seq, type, payload, created_at, consumed_by FROM events "
                          "WHERE instance_pk = ? ORDER BY seq", (pk,)).fetchall()
    logs = conn.execute("SELECT seq, at, line FROM logs WHERE instance_pk = ? ORDER BY seq",
                        (pk,)).fetchall()
    return ([decode_step(row) for row in steps], [decode_event(row) for row in events],
            [decode_log(row) for row in logs])


def _audit(conn: sqlite3.Connection, pk: int) -> tuple[list[AuditRecord],
                                                        list[DiscardedStepRecord]]:
    entries = conn.execute("SELECT seq, at, action, detail FROM audit WHERE instance_pk = ? "
                           "ORDER BY seq", (pk,)).fetchall()
    discarded = conn.execute(f"SELECT audit_seq, {_STEP_COLUMNS} FROM discarded_steps "
                             "WHERE instance_pk = ? ORDER BY audit_seq, seq", (pk,)).fetchall()
    return ([decode_audit(row) for row in entries],
            [DiscardedStepRecord(audit_seq, decode_step(row)) for audit_seq, *row in discarded])


def _recover(conn: sqlite3.Connection, now: float, quarantine_after: int) -> tuple[int, int]:
    with transaction(conn):
        # ``crashes`` is 0 for an instance that was in flight as a bystander (it becomes a
        # suspect: 1), and a suspect on probation added 1 itself when it started host code
        # (``mark_probing``); a suspect caught before that is not charged again
        # A damaged ``crashes`` (text, NULL) counts as 0: recovery must never fail on it,
        # or no worker could start at all.
        rows = [(pk, crashes if type(crashes) is int else 0) for pk, crashes in conn.execute(
            "SELECT pk, crashes FROM instances WHERE status = 'running'")]
        released, quarantined = split_suspects(rows, quarantine_after)
        error = quarantine_error(quarantine_after)
        conn.executemany(
            "UPDATE instances SET status = 'errored', error = ?, wake_at = NULL, "
            "control = NULL, crashes = MAX(CAST(crashes AS INTEGER), 1), updated_at = ? "
            "WHERE pk = ?",
            [(error, now, pk) for pk in quarantined])
        # A released instance keeps the due time it was claimed at, so that it runs before
        # the work that became due while it was in flight (claims go in due order).
        conn.executemany(
            "UPDATE instances SET status = 'queued', wake_at = COALESCE(MIN(wake_at, ?), ?), "
            "crashes = MAX(CAST(crashes AS INTEGER), 1), updated_at = ? WHERE pk = ?",
            [(now, now, now, pk) for pk in released])
    return len(released), len(quarantined)


def _mark_probing(conn: sqlite3.Connection, pk: int) -> None:
    with transaction(conn):
        conn.execute("UPDATE instances SET crashes = crashes + 1 WHERE pk = ? AND crashes > 0",
                     (pk,))


_READY = "status IN ('queued', 'waiting') AND wake_at IS NOT NULL"

#: Every agent with queued or waiting instances, one index probe each (a skip-scan).
_READY_AGENTS = f"""
WITH RECURSIVE ready(agent) AS (
    SELECT (SELECT MIN(agent_id) FROM instances INDEXED BY instances_ready WHERE {_READY})
    UNION ALL
    SELECT (SELECT MIN(agent_id) FROM instances INDEXED BY instances_ready
            WHERE {_READY} AND agent_id > ready.agent)
    FROM ready WHERE ready.agent IS NOT NULL)
SELECT agent FROM ready WHERE agent IS NOT NULL
"""

_AGENT_DUE = f"""
SELECT pk, wake_at, crashes FROM instances INDEXED BY instances_ready
WHERE {_READY} AND agent_id = ? AND wake_at <= ?
  AND plan_hash || agent_id NOT IN (SELECT value FROM json_each(?))
ORDER BY wake_at, pk LIMIT ?
"""


def _claim_due(conn: sqlite3.Connection, now: float, limit: int, per_agent: int | None,
               running: dict[str, int], exclude: list[str],
               suspects: int | None) -> list[Any]:
    """Claim in turns: each agent's earliest due instance first, then each one's second...

    ``turn`` counts an agent's instances already running (``running``) too, so one agent
    with a backlog (or a hang) never takes the places of another agent's ready work, and
    no agent gets more than ``per_agent`` activations. Within a turn, earliest due first.
    ``exclude`` holds ``plan_hash + agent_id`` keys this worker cannot run. At most
    ``suspects`` instances that were in flight at a crash (``crashes > 0``) are claimed.
    Each agent costs one index probe and reads at most ``limit`` rows, so a herd of due
    instances is claimed without rescanning it.
    """
    skip = json.dumps(exclude)
    with transaction(conn):
        candidates: list[tuple[int, float, int, int]] = []
        for (agent,) in conn.execute(_READY_AGENTS).fetchall():
            busy = running.get(agent, 0)
            room = limit if per_agent is None else min(per_agent - busy, limit)
            if room <= 0:
                continue
            for turn, (pk, wake_at, crashes) in enumerate(
                    conn.execute(_AGENT_DUE, (agent, now, skip, room)), start=busy + 1):
                candidates.append((turn, wake_at, pk, crashes))
        candidates.sort()
        allowed = limit if suspects is None else suspects
        chosen: list[int] = []
        for _turn, _wake, pk, crashes in candidates:
            if len(chosen) == limit:
                break
            if isinstance(crashes, int) and crashes > 0:  # a damaged value is no suspect
                if allowed <= 0:
                    continue
                allowed -= 1
            chosen.append(pk)
        if not chosen:
            return []
        return conn.execute(
            f"UPDATE instances SET status = 'running', updated_at = ? WHERE pk IN "
            f"(SELECT value FROM json_each(?)) RETURNING {_INSTANCE_COLUMNS}",
            (now, json.dumps(chosen))).fetchall()


def _run_together(conn: sqlite3.Connection,
                  operations: list[tuple[Callable[..., Any], tuple[Any, ...]]]
                  ) -> list[tuple[bool, Any]]:
    """Every operation, in order, consecutive ends as one ``finish_many``; raises at the
    first failure."""
    outcomes: list[tuple[bool, Any]] = []
    ends: list[tuple[int, Finish, float]] = []

    def write_ends() -> None:
        outcomes.extend((True, status) for status in finish_many(conn, ends, _finish_in))
        ends.clear()

    for fn, args in operations:
        if fn is _finish_in:
            ends.append(args)
            continue
        if ends:
            write_ends()
        outcomes.append((True, fn(conn, *args)))
    if ends:
        write_ends()
    return outcomes


def _run_batch(conn: sqlite3.Connection,
               operations: list[tuple[Callable[..., Any], tuple[Any, ...]]]
               ) -> list[tuple[bool, Any]]:
    """One transaction for many writers, in which one failing operation fails alone.

    Optimistic: all operations run under one savepoint (two statements per batch instead
    of two per operation), and runs of activation ends are written together
    (``finish_many``); only if something raises is all of it undone and the batch run
    again with a savepoint per operation.
    """
    outcomes: list[tuple[bool, Any]] = []
    with transaction(conn):
        if len(operations) > 1:
            conn.execute("SAVEPOINT batch")
            try:
                outcomes = _run_together(conn, operations)
            except Exception:
                conn.execute("ROLLBACK TO batch")
                outcomes = []
            conn.execute("RELEASE batch")
            if outcomes:
                return outcomes
        for fn, args in operations:
            conn.execute("SAVEPOINT operation")
            try:
                outcomes.append((True, fn(conn, *args)))
            except Exception as error:
                conn.execute("ROLLBACK TO operation")
                outcomes.append((False, error))
            conn.execute("RELEASE operation")
    return outcomes


def _load_journals(conn: sqlite3.Connection, pks: list[int]
                   ) -> tuple[dict[int, Journal], dict[int, CorruptRecord]]:
    """The journals of ``pks``, and the ``CorruptRecord`` of each instance that must not
    run because its instance row, a journal row or a buffered event is damaged."""
    journals = {pk: Journal() for pk in pks}
    problems: dict[int, str] = {}
    ids: dict[int, str] = {}

    def refuse(pk: int, problem: str | None) -> None:
        if problem is not None and pk not in problems:
            problems[pk] = problem

    for start in range(0, len(pks), 500):  # SQLite's bound-parameter limit
        chunk = pks[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in conn.execute(f"SELECT {_INSTANCE_COLUMNS} FROM instances "
                                f"WHERE pk IN ({marks})", chunk):
            instance = decode_instance(row)
            ids[instance.pk] = instance.id
            refuse(instance.pk, instance_run_problem(instance))
        for pk, *row in conn.execute(f"SELECT instance_pk, {_STEP_COLUMNS} FROM steps "
                                     f"WHERE instance_pk IN ({marks})", chunk):
            record = decode_step(row)
            refuse(pk, step_replay_problem(record))
            journals[pk].steps[record.seq] = record
        for pk, *row in conn.execute(
                "SELECT instance_pk, seq, type, payload, created_at, consumed_by FROM events "
                f"WHERE instance_pk IN ({marks}) AND consumed_by IS NULL ORDER BY seq", chunk):
            event = decode_event(row)
            refuse(pk, event_replay_problem(event))
            journals[pk].events.append(event)
        for pk, last in conn.execute("SELECT instance_pk, MAX(seq) FROM events "
                                     f"WHERE instance_pk IN ({marks}) GROUP BY instance_pk",
                                     chunk):
            journals[pk].last_event_seq = int(last)
        for pk, lines, size in conn.execute(
                "SELECT instance_pk, COUNT(*), SUM(LENGTH(CAST(line AS BLOB))) FROM logs "
                f"WHERE instance_pk IN ({marks}) GROUP BY instance_pk", chunk):
            journals[pk].log_lines, journals[pk].log_bytes = int(lines), int(size or 0)
    refused = {pk: corrupt_instance(ids.get(pk, f"#{pk}"), problem)
               for pk, problem in problems.items()}
    for pk in refused:
        del journals[pk]
    return journals, refused


def _agent_storage_bytes(conn: sqlite3.Connection, agent_id: str) -> int:
    steps = _one(conn, "SELECT SUM(LENGTH(CAST(COALESCE(s.result, '') AS BLOB)) + "
                       "LENGTH(CAST(COALESCE(s.error, '') AS BLOB)) + "
                       "LENGTH(CAST(COALESCE(s.config, '') AS BLOB)) + "
                       "LENGTH(CAST(COALESCE(s.detail, '') AS BLOB))) "
                       "FROM steps s JOIN instances i ON i.pk = s.instance_pk "
                       "WHERE i.agent_id = ?", (agent_id,))
    logs = _one(conn, "SELECT SUM(LENGTH(CAST(l.line AS BLOB))) FROM logs l "
                      "JOIN instances i ON i.pk = l.instance_pk WHERE i.agent_id = ?",
                (agent_id,))
    return int(steps[0] or 0) + int(logs[0] or 0)


def _write_step(conn: sqlite3.Connection, row: tuple[Any, ...],
                consume_event: int | None) -> None:
    _upsert_step(conn, row, consume_event)
    # progress: whatever crashed the engine while this instance was in flight, it got past
    # it, so it is no longer a quarantine suspect
    conn.execute("UPDATE instances SET crashes = 0 WHERE pk = ? AND crashes <> 0", (row[0],))


_UPSERT_STEP = (f"INSERT OR REPLACE INTO steps (instance_pk, {_STEP_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _upsert_step(conn: sqlite3.Connection, row: tuple[Any, ...],
                 consume_event: int | None) -> None:
    conn.execute(_UPSERT_STEP, row)
    if consume_event is not None:
        conn.execute("UPDATE events SET consumed_by = ? WHERE seq = ?", (row[1], consume_event))


def _finish_in(conn: sqlite3.Connection, pk: int, finish: Finish, now: float) -> str:
    # the end below sets the crash count
    if finish.steps:
        conn.executemany(_UPSERT_STEP, [step_row(pk, step) for step, _ in finish.steps])
        consumed = [(step.seq, event) for step, event in finish.steps if event is not None]
        if consumed:
            conn.executemany("UPDATE events SET consumed_by = ? WHERE seq = ?", consumed)
    row = _one(conn, "SELECT control, restart_from FROM instances WHERE pk = ?", (pk,))
    control, restart_from = (row[0], row[1]) if row else (None, None)
    if finish.logs:
        conn.executemany("INSERT INTO logs (instance_pk, at, line) VALUES (?, ?, ?)",
                         [(pk, now, line) for line in finish.logs])
    if control == "restart":
        _restart(conn, pk, restart_from, now)
        return "queued"
    status, wake_at = finish.status, finish.wake_at
    paused_at = None
    if status in ("waiting", "queued"):
        if control == "terminate":
            status, wake_at = "terminated", None
        elif control == "pause":
            status, wake_at, paused_at = "paused", None, now
        elif status == "waiting" and _one(
                conn, "SELECT 1 FROM events WHERE instance_pk = ? AND seq > ? "
                      "AND consumed_by IS NULL LIMIT 1",
                (pk, finish.last_event_seq)) is not None:
            wake_at = now  # an event arrived while it ran: look again
    # an activation handed back (cancelled, the store failed) made no verdict on the
    # instance: it keeps its crash count; any other end proves the plan did not crash us
    conn.execute(
        "UPDATE instances SET status = ?, wake_at = ?, output = ?, error = ?, "
        "control = NULL, restart_from = NULL, paused_at = ?, "
        "crashes = CASE WHEN ? THEN MIN(crashes, 1) ELSE 0 END, updated_at = ? WHERE pk = ?",
        (status, wake_at, finish.output, finish.error, paused_at, finish.handed_back, now,
         pk))
    if status in TERMINAL_STATUSES:
        instance_ended(conn, pk, status, now)
    return status


def _locked_instance(conn: sqlite3.Connection, agent_id: str, id: str) -> InstanceRecord:
    row = _one(conn, f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE agent_id = ? AND id = ?",
               (agent_id, id))
    if row is None:
        raise InstanceNotFound(id)
    return _instance(row)


def _add_event(conn: sqlite3.Connection, agent_id: str, id: str, type: str, payload: str,
               now: float) -> InstanceRecord:
    with transaction(conn):
        record = _locked_instance(conn, agent_id, id)
        if record.status in TERMINAL_STATUSES:
            raise InstanceNotActive(id, record.status, "send an event to")
        conn.execute("INSERT INTO events (instance_pk, type, payload, created_at) "
                     "VALUES (?, ?, ?, ?)", (record.pk, type, payload, now))
        if record.status == "waiting":
            conn.execute("UPDATE instances SET wake_at = ?, updated_at = ? WHERE pk = ?",
                         (now, now, record.pk))
        return record


def _control(conn: sqlite3.Connection, agent_id: str, id: str, op: str, now: float,
             from_seq: int | None) -> InstanceRecord:
    with transaction(conn):
        record = _locked_instance(conn, agent_id, id)
        status = record.status
        if op != "restart" and status in TERMINAL_STATUSES:
            raise InstanceNotActive(id, status, op)
        _log_action(conn, record, op, now, from_seq)
        if status == "running":
            if op == "resume":
                conn.execute("UPDATE instances SET control = NULL WHERE pk = ? "
                             "AND control = 'pause'", (record.pk,))
            else:
                conn.execute("UPDATE instances SET control = ?, restart_from = ?, "
                             "updated_at = ? WHERE pk = ?", (op, from_seq, now, record.pk))
        elif op == "pause" and status != "paused":
            conn.execute("UPDATE instances SET status = 'paused', paused_at = ?, "
                         "wake_at = NULL, updated_at = ? WHERE pk = ?", (now, now, record.pk))
        elif op == "resume" and status == "paused":
            shift = now - (record.paused_at or now)
            conn.execute("UPDATE steps SET wake_at = wake_at + ? WHERE instance_pk = ? "
                         "AND wake_at IS NOT NULL AND state IN ('waiting', 'retrying')",
                         (shift, record.pk))
            conn.execute("UPDATE instances SET status = 'queued', paused_at = NULL, "
                         "wake_at = ?, updated_at = ? WHERE pk = ?", (now, now, record.pk))
        elif op == "terminate":
            conn.execute("UPDATE instances SET status = 'terminated', wake_at = NULL, "
                         "control = NULL, updated_at = ? WHERE pk = ?", (now, record.pk))
            instance_ended(conn, record.pk, "terminated", now)
        elif op == "restart":
            _restart(conn, record.pk, from_seq, now)
        return _locked_instance(conn, agent_id, id)


def _log_action(conn: sqlite3.Connection, record: InstanceRecord, op: str, now: float,
                from_seq: int | None) -> None:
    """The audit entry of an operator action, written in the action's own transaction."""
    detail: dict[str, Any] = {"was": record.status}
    if record.status == "running" and op != "resume":
        detail["deferred"] = True  # applied when the running activation stops
    if op == "restart":
        step = None
        if from_seq is not None:
            row = _one(conn, "SELECT name, occurrence FROM steps WHERE instance_pk = ? "
                             "AND seq = ?", (record.pk, from_seq))
            step = {"seq": from_seq, "name": row[0] if row else None,
                    "occurrence": row[1] if row else None}
        detail["from_step"] = step
    conn.execute("INSERT INTO audit (instance_pk, at, action, detail) VALUES (?, ?, ?, ?)",
                 (record.pk, now, op, json.dumps(detail, default=str)))


def _restart(conn: sqlite3.Connection, pk: int, from_seq: int | None, now: float) -> None:
    """Discard the journal from ``from_seq`` on (all of it for None) and queue the instance.

    The discarded rows move to ``discarded_steps`` under the restart's audit entry: replay
    reads only ``steps``, so it never sees them, and ``history()`` still shows them.
    """
    start = from_seq if isinstance(from_seq, int) and from_seq >= 0 else 0
    row = _one(conn, "SELECT MAX(seq) FROM audit WHERE instance_pk = ? AND action = 'restart'",
               (pk,))
    audit_seq = row[0] if row and row[0] is not None else 0
    conn.execute(f"INSERT OR REPLACE INTO discarded_steps (instance_pk, audit_seq, "
                 f"{_STEP_COLUMNS}) SELECT instance_pk, ?, {_STEP_COLUMNS} FROM steps "
                 "WHERE instance_pk = ? AND seq >= ?", (audit_seq, pk, start))
    conn.execute("UPDATE events SET consumed_by = NULL WHERE instance_pk = ? "
                 "AND consumed_by >= ?", (pk, start))
    conn.execute("DELETE FROM steps WHERE instance_pk = ? AND seq >= ?", (pk, start))
    conn.execute(
        "UPDATE instances SET status = 'queued', wake_at = ?, output = NULL, error = NULL, "
        "control = NULL, restart_from = NULL, paused_at = NULL, crashes = 0, "
        "updated_at = ? WHERE pk = ?", (now, now, pk))


def store_for(target: str | os.PathLike[str], *, busy_timeout: float = 10.0) -> SQLiteStore:
    """A SQLite store for a path, ``sqlite:///path`` URL or ``:memory:``."""
    text = str(target)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):] or ":memory:"
    elif text.startswith("sqlite://"):
        text = text[len("sqlite://"):] or ":memory:"
    if text != ":memory:":
        Path(text).parent.mkdir(parents=True, exist_ok=True)
    return SQLiteStore(text, busy_timeout=busy_timeout)
