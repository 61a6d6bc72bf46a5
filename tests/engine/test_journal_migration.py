"""Journals recorded before branch scopes existed keep replaying (append-only migration).

Schema version 1 had no ``scope``/``position`` columns; migration 2 adds them and leaves old
rows with ``position`` NULL. Such an instance replays with the identity it was recorded
under (positions in creation order), so a sleeping instance from an older release wakes up
and finishes on this one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.store._schema import MIGRATIONS
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

PLAN = '''
async def run(event, step):
    a = await step.do("first", lambda: 1)
    both = await step.gather(step.do("left", lambda: 2), step.do("right", lambda: 3))
    await step.sleep("nap", "1 day")
    return [a, *both, await step.do("last", lambda: 4)]
'''


async def test_a_version_1_journal_replays_after_the_migration(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    clock = FakeClock()
    # Record the instance up to its sleep, then turn the file back into schema version 1.
    async with ad.Engine.open(db, clock=clock) as engine:
        agent = engine.agent("a")
        await agent.register_plan("p", PLAN)
        inst = await agent.create("p", id="old")
        await clock.settle()
        assert (await inst.status()).status == "waiting"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT seq, kind, name, occurrence, state, result, error, config, "
                            "attempts, started_at, ended_at, wake_at, detail, instance_pk "
                            "FROM steps ORDER BY seq").fetchall()
        for later in ("steps", "audit", "discarded_steps", "api_tokens",
                      "schedules"):  # migrations 2+
            conn.execute(f"DROP TABLE IF EXISTS {later}")
        for index in ("instances_ready", "instances_finished", "instances_by_parent",
                      "instances_by_schedule"):
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        for column in ("parent_pk", "on_parent_end", "schedule"):
            conn.execute(f"ALTER TABLE instances DROP COLUMN {column}")
        first = next(s for s in MIGRATIONS[0].split(";") if "CREATE TABLE steps" in s)
        conn.execute(first)
        conn.executemany("INSERT INTO steps (seq, kind, name, occurrence, state, result, "
                         "error, config, attempts, started_at, ended_at, wake_at, detail, "
                         "instance_pk) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("PRAGMA user_version = 1")
    assert len(rows) == 4  # first, left, right, nap
    async with ad.Engine.open(db, clock=clock) as engine:
        agent = engine.agent("a")
        inst = await agent.get("old")
        await clock.advance("1 day")
        final = await inst.wait(timeout=20)
        assert (final.status, final.output) == ("complete", [1, 2, 3, 4])
        assert [s.name for s in (await inst.history()).steps] == [
            "first", "left", "right", "nap", "last"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        positions = [p for (p,) in conn.execute("SELECT position FROM steps ORDER BY seq")]
    assert positions == [None] * 5  # the old identity, kept for the rest of its life
