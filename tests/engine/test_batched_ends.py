"""SQLite writes a batch of activation ends with a few statements (``finish_many``).
Whatever the ends hold (controls that arrived while the plan ran, events, carried rows,
logs, a hand-back, a family of instances, a restart), the database must end up exactly
as if each end had been written on its own."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.store import Finish, StepRecord
from agents_durable.store.sqlite import _finish_in, _run_batch

pytestmark = pytest.mark.anyio

PLAN = '''
async def run(event, step):
    return await step.do("one", lambda: 1)
'''

NOW = 1_800_000_000.25
TABLES = ("instances", "steps", "events", "logs", "audit", "discarded_steps")


def step(seq: int, name: str, **fields: Any) -> StepRecord:
    return StepRecord(seq=seq, kind="do", name=name, occurrence=1, state="done",
                      result="1", config='{"limit": 0}', attempts=1, started_at=NOW - 1,
                      ended_at=NOW, detail="[]", **fields)


async def database(tmp_path: Path, count: int) -> tuple[Path, list[int]]:
    path = tmp_path / "ends.db"
    async with ad.Engine.open(path, worker=False) as engine:
        agent = engine.agent("agent-a")
        await agent.register_plan("plan", PLAN)
        await agent.create_batch([{"plan": "plan", "id": f"i{n}"} for n in range(count)])
    conn = sqlite3.connect(path)
    pks = [pk for (pk,) in conn.execute("SELECT pk FROM instances ORDER BY pk")]
    conn.execute("UPDATE instances SET status = 'running', wake_at = NULL")
    conn.commit()
    conn.close()
    return path, pks


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in TABLES}
    finally:
        conn.close()


def write(path: Path, ends: list[tuple[int, Finish, float]], *, together: bool) -> int:
    """Write ``ends`` as one batch, or one batch per end; the statements it took."""
    conn = sqlite3.connect(path, isolation_level=None)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        operations = [(_finish_in, end) for end in ends]
        batches = [operations] if together else [[operation] for operation in operations]
        for batch in batches:
            for ok, value in _run_batch(conn, batch):
                assert ok, value
    finally:
        conn.close()
    return len(statements)


def scenario(conn: sqlite3.Connection, pks: list[int]) -> list[tuple[int, Finish, float]]:
    """Seven ends of lone instances, each exercising one rule of an end."""
    a, b, c, d, e, f, g = pks[:7]
    conn.execute("UPDATE instances SET control = 'terminate' WHERE pk = ?", (b,))
    conn.execute("UPDATE instances SET control = 'pause' WHERE pk = ?", (c,))
    conn.execute("UPDATE instances SET crashes = 2 WHERE pk IN (?, ?)", (f, a))
    event = "INSERT INTO events (instance_pk, type, payload, created_at) VALUES (?, ?, ?, ?)"
    conn.execute(event, (d, "go", "{}", NOW))  # arrived while it ran: wake it now
    consumed = conn.execute(event, (e, "go", "{}", NOW)).lastrowid  # taken by its step
    conn.commit()
    return [
        (a, Finish("complete", output="1", steps=((step(0, "x"), None),
                                                  (step(1, "y"), None))), NOW),
        (b, Finish("waiting", wake_at=NOW + 60), NOW),
        (c, Finish("queued", wake_at=NOW), NOW),
        (d, Finish("waiting", wake_at=None, last_event_seq=0), NOW),
        (e, Finish("waiting", wake_at=NOW + 5, last_event_seq=consumed,
                   steps=((step(0, "got"), consumed),)), NOW),
        (f, Finish("queued", wake_at=NOW + 1, handed_back=True), NOW),
        (g, Finish("errored", error='{"name": "X"}', logs=("one", "two")), NOW),
    ]


async def compare(tmp_path: Path, prepare: Any) -> tuple[int, int]:
    path, pks = await database(tmp_path, 9)
    conn = sqlite3.connect(path)
    ends = prepare(conn, pks)
    conn.close()
    alone = tmp_path / "alone.db"
    shutil.copy(path, alone)
    together_statements = write(path, ends, together=True)
    alone_statements = write(alone, ends, together=False)
    assert dump(path) == dump(alone)
    return together_statements, alone_statements


async def test_a_batch_of_lone_ends_is_written_as_each_alone_with_few_statements(
        tmp_path: Path) -> None:
    together, alone = await compare(tmp_path, scenario)
    assert together <= 14 < alone  # BEGIN, savepoint, ~8 statements, release, COMMIT


async def test_a_family_in_the_batch_is_written_end_by_end(tmp_path: Path) -> None:
    def family(conn: sqlite3.Connection, pks: list[int]) -> list[tuple[int, Finish, float]]:
        ends = scenario(conn, pks)
        parent, child, other = pks[0], pks[7], pks[8]
        # the parent's end stops its child, whose own end comes later in the same batch
        conn.execute("UPDATE instances SET parent_pk = ?, on_parent_end = 'terminate' "
                     "WHERE pk = ?", (parent, child))
        conn.execute("UPDATE instances SET parent_pk = ?, on_parent_end = 'keep' "
                     "WHERE pk = ?", (other, pks[6]))
        conn.commit()
        return [*ends, (child, Finish("waiting", wake_at=NOW + 60), NOW),
                (other, Finish("waiting", wake_at=NOW + 60), NOW)]

    await compare(tmp_path, family)


async def test_a_restart_in_the_batch_is_written_end_by_end(tmp_path: Path) -> None:
    def restart(conn: sqlite3.Connection, pks: list[int]) -> list[tuple[int, Finish, float]]:
        ends = scenario(conn, pks)
        conn.execute("UPDATE instances SET control = 'restart' WHERE pk = ?", (pks[7],))
        conn.execute("INSERT INTO steps (instance_pk, seq, kind, name, occurrence, state) "
                     "VALUES (?, 0, 'do', 'old', 1, 'done')", (pks[7],))
        conn.commit()
        return [*ends, (pks[7], Finish("complete", output="2"), NOW)]

    await compare(tmp_path, restart)
