"""The floor: what SQLite itself costs here, without any engine.

Inserts of step-sized rows with ``sqlite3`` (in-thread) and ``aiosqlite`` (a worker thread
per connection, as our store uses), one commit per row and 100 rows per commit, WAL, with
``synchronous`` NORMAL and FULL. An engine that commits once per step cannot beat the
one-commit-per-row numbers on the same machine.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import aiosqlite

__all__ = ["WORKLOADS"]

_SCHEMA = ("CREATE TABLE steps (instance_pk INTEGER NOT NULL, seq INTEGER NOT NULL, "
           "result TEXT, PRIMARY KEY (instance_pk, seq)) WITHOUT ROWID")
_INSERT = "INSERT INTO steps (instance_pk, seq, result) VALUES (?, ?, ?)"
_PAYLOAD = '{"value": 12345, "label": "a small step result"}'


def _rows(count: int) -> list[tuple[int, int, str]]:
    return [(i // 10, i % 10, _PAYLOAD) for i in range(count)]


def _sqlite3_inserts(path: Path, synchronous: str, rows: list[tuple[int, int, str]],
                     per_commit: int) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute(_SCHEMA)
    started = time.perf_counter()
    for start in range(0, len(rows), per_commit):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(_INSERT, rows[start:start + per_commit])
        connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return len(rows) / seconds


async def _aiosqlite_inserts(path: Path, synchronous: str, rows: list[tuple[int, int, str]],
                             per_commit: int) -> float:
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(f"PRAGMA synchronous={synchronous}")
        await db.execute(_SCHEMA)
        started = time.perf_counter()
        for start in range(0, len(rows), per_commit):
            await db.execute("BEGIN IMMEDIATE")
            if per_commit == 1:
                await db.execute(_INSERT, rows[start])
            else:
                await db.executemany(_INSERT, rows[start:start + per_commit])
            await db.execute("COMMIT")
        seconds = time.perf_counter() - started
    return len(rows) / seconds


async def floor(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Rows per second for each library x commit size x synchronous level."""
    result: dict[str, Any] = {}
    for synchronous in ("NORMAL", "FULL"):
        for per_commit, count in ((1, cfg["rows_single"]), (100, cfg["rows_batched"])):
            rows = _rows(count)
            label = f"{synchronous.lower()}_{'row' if per_commit == 1 else 'batch100'}"
            path = workdir / f"sqlite3-{label}.db"
            result[f"sqlite3_{label}_rows_per_s"] = _sqlite3_inserts(path, synchronous, rows,
                                                                     per_commit)
            path = workdir / f"aiosqlite-{label}.db"
            result[f"aiosqlite_{label}_rows_per_s"] = await _aiosqlite_inserts(
                path, synchronous, rows, per_commit)
    return result


WORKLOADS = {"floor": floor}
