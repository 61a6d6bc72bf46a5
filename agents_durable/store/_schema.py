"""The SQLite store's schema: append-only migrations keyed by ``PRAGMA user_version``,
the check that an existing file is an agents_durable database, and the transaction
helper every store operation uses."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from agents_durable.errors import StoreError

__all__ = ["MIGRATIONS", "check_existing", "migrate", "transaction"]

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE plan_versions (
        agent_id TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        hash TEXT NOT NULL,
        source TEXT NOT NULL,
        description TEXT NOT NULL,
        outline TEXT NOT NULL,
        policy TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (agent_id, name, version)
    );
    CREATE UNIQUE INDEX plan_versions_by_hash ON plan_versions (agent_id, name, hash);
    CREATE INDEX plan_versions_hash ON plan_versions (hash);
    CREATE TABLE instances (
        pk INTEGER PRIMARY KEY,
        agent_id TEXT NOT NULL,
        id TEXT NOT NULL,
        plan_name TEXT NOT NULL,
        plan_version INTEGER NOT NULL,
        plan_hash TEXT NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL,
        output TEXT,
        error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        wake_at REAL,
        control TEXT,
        restart_from INTEGER,
        paused_at REAL,
        crashes INTEGER NOT NULL DEFAULT 0,
        UNIQUE (agent_id, id)
    );
    CREATE INDEX instances_due ON instances (wake_at) WHERE wake_at IS NOT NULL;
    CREATE INDEX instances_by_agent ON instances (agent_id, pk);
    CREATE TABLE steps (
        instance_pk INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        occurrence INTEGER NOT NULL,
        state TEXT NOT NULL,
        result TEXT,
        error TEXT,
        config TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        started_at REAL,
        ended_at REAL,
        wake_at REAL,
        detail TEXT,
        PRIMARY KEY (instance_pk, seq)
    ) WITHOUT ROWID;
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        instance_pk INTEGER NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL,
        consumed_by INTEGER
    );
    CREATE INDEX events_by_instance ON events (instance_pk, seq);
    CREATE TABLE logs (
        seq INTEGER PRIMARY KEY,
        instance_pk INTEGER NOT NULL,
        at REAL NOT NULL,
        line TEXT NOT NULL
    );
    CREATE INDEX logs_by_instance ON logs (instance_pk, seq);
    """,
    # Step identity by branch scope (see engine/_activation.py): rows written before this
    # migration keep ``position`` NULL, which tells the engine to replay that instance
    # under the identity scheme it was recorded with.
    """
    ALTER TABLE steps ADD COLUMN scope TEXT NOT NULL DEFAULT '';
    ALTER TABLE steps ADD COLUMN position INTEGER;
    """,
    # The audit trail: every operator action, and the steps a restart took out of replay.
    """
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        instance_pk INTEGER NOT NULL,
        at REAL NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX audit_by_instance ON audit (instance_pk, seq);
    CREATE TABLE discarded_steps (
        instance_pk INTEGER NOT NULL,
        audit_seq INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        occurrence INTEGER NOT NULL,
        state TEXT NOT NULL,
        result TEXT,
        error TEXT,
        config TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        started_at REAL,
        ended_at REAL,
        wake_at REAL,
        detail TEXT,
        scope TEXT NOT NULL DEFAULT '',
        position INTEGER,
        PRIMARY KEY (instance_pk, audit_seq, seq)
    ) WITHOUT ROWID;
    """,
    # fair claims: each agent's ready instances in due order (engine scheduler)
    """
    CREATE INDEX instances_ready ON instances (agent_id, wake_at, pk)
        WHERE status IN ('queued', 'waiting') AND wake_at IS NOT NULL;
    """,
    # operating: API tokens of the HTTP server (hashed), and retention's scan of finished
    # instances by age
    """
    CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        agent_id TEXT,
        role TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE INDEX instances_finished ON instances (status, updated_at)
        WHERE status IN ('complete', 'errored', 'terminated');
    """,
    # child plans (engine/_children.py): the parent an instance was started by, and
    # whether it is terminated when that parent ends ('terminate') or outlives it ('keep')
    """
    ALTER TABLE instances ADD COLUMN parent_pk INTEGER;
    ALTER TABLE instances ADD COLUMN on_parent_end TEXT;
    CREATE INDEX instances_by_parent ON instances (parent_pk) WHERE parent_pk IS NOT NULL;
    """,
    # schedules (engine/_schedules.py); instances.schedule names the schedule that
    # started an instance (its id is the schedule's name and the slot: one per slot)
    """
    CREATE TABLE schedules (
        agent_id TEXT NOT NULL,
        name TEXT NOT NULL,
        plan TEXT NOT NULL,
        cron TEXT NOT NULL,
        timezone TEXT NOT NULL,
        params TEXT NOT NULL,
        overlap TEXT NOT NULL,
        catch_up TEXT NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0,
        next_at REAL,
        held REAL,
        created_at REAL NOT NULL,
        PRIMARY KEY (agent_id, name)
    );
    CREATE INDEX schedules_due ON schedules (next_at) WHERE paused = 0;
    ALTER TABLE instances ADD COLUMN schedule TEXT;
    CREATE INDEX instances_by_schedule ON instances (agent_id, schedule)
        WHERE schedule IS NOT NULL;
    """,
)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        # A failed COMMIT (disk full) leaves the transaction open, and SQLite may already
        # have rolled back by itself: roll back only what is still open, and never let a
        # failing ROLLBACK hide the error that caused it.
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def check_existing(conn: sqlite3.Connection, path: str) -> None:
    """Refuse a file that exists but is no agents_durable database, before touching it.

    An empty file (0 bytes, or SQLite with no tables) where a database is expected is
    usually a truncated one: initialising it would silently start over with no instances.
    """
    try:
        (tables,) = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) not in (sqlite3.SQLITE_NOTADB,
                                                          sqlite3.SQLITE_CORRUPT):
            raise
        raise StoreError(f"{path!r} is not a readable SQLite database ({exc}): the file is "
                         "damaged or is something else. Restore it from a backup, or open "
                         "another path") from None
    if version == 0 and tables == 0:
        raise StoreError(f"{path!r} exists but holds no agents_durable schema (it is empty): "
                         "refusing to initialise it, because an empty file where a database "
                         "should be is usually a truncated one. Restore it from a backup, or "
                         "delete the file to start a new database")
    if version == 0:
        raise StoreError(f"{path!r} is a SQLite database of something else (it has tables but "
                         "no agents_durable schema version); open another path")


def migrate(conn: sqlite3.Connection, path: str) -> None:
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > len(MIGRATIONS):
        raise StoreError(f"{path!r} has schema version {current}, newer than this "
                         f"agents_durable understands ({len(MIGRATIONS)}); upgrade it")
    for version in range(current, len(MIGRATIONS)):
        with transaction(conn):
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
