"""A database with one damaged instance among healthy ones, for the corrupt-row tests.

``build`` runs a victim and two healthy instances of the same plan up to an event wait
(each has a committed ``do`` step that called a counting tool, a ``now`` step, a buffered
event it never waits for, a printed line and an audit entry), closes the engine, then
writes one bad value with a raw sqlite3 connection, as damage from outside would.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import agents_durable as ad
from agents_durable.testing import FakeClock

PLAN = '''
"""Counts once, reads the clock, waits for a reply."""

async def run(event, step):
    print("started", event.payload["key"])
    first = await step.do("first", lambda: tools.ledger.add(event.payload["key"]))
    await step.now()
    reply = await step.wait_for_event("reply", type="reply", timeout="1 day")
    return {"first": first, "reply": reply["payload"]}
'''
#: The victim's plan differs by a comment only: its own plan_versions row and hash.
VICTIM_PLAN = PLAN + "# the victim's copy\n"
AGENT = "shop"
HEALTHY = ("healthy-1", "healthy-2")
VICTIM = "victim"


class Ledger:
    """A host tool that counts its calls per key: a committed step must never re-run."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        self.calls[key] = self.calls.get(key, 0) + 1
        return self.calls[key]


@dataclass(frozen=True)
class Damage:
    """One bad value: ``table.column`` of the victim's row (``where`` picks the row)."""

    table: str
    column: str
    value: Any
    where: str = ""
    #: what running the victim does afterwards: "errored" (CorruptRecord naming the
    #: column), "complete" (the damaged field is not needed to run, or an event repairs
    #: it), "stuck" (the row cannot even be claimed or sent an event).
    outcome: str = "errored"

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}={self.value!r}{self.where}"

    @property
    def column_name(self) -> str:
        return f"{self.table}.{self.column}"


def open_engine(path: Path, clock: FakeClock, ledger: Ledger, **options: Any) -> ad.Engine:
    engine = ad.Engine.open(path, clock=clock, **options)
    engine.tools.register("ledger.add", ledger)
    return engine


async def build(path: Path, clock: FakeClock, ledger: Ledger) -> None:
    """The victim and the healthy instances, each waiting for "reply"."""
    async with open_engine(path, clock, ledger) as engine:
        agent = engine.agent(AGENT, tools=["ledger.add"])
        await agent.register_plan("shared", PLAN)
        await agent.register_plan("victim-plan", VICTIM_PLAN)
        for instance_id in HEALTHY:
            await agent.create("shared", {"key": instance_id}, id=instance_id)
        victim = await agent.create("victim-plan", {"key": VICTIM}, id=VICTIM)
        await clock.settle()
        await victim.pause()
        await victim.resume()
        await clock.settle()
        for instance_id in (*HEALTHY, VICTIM):
            handle = await agent.get(instance_id)
            await handle.send_event("note", {"for": instance_id})  # buffered for good
        await clock.settle()
        for instance_id in (*HEALTHY, VICTIM):
            assert (await (await agent.get(instance_id)).status()).status == "waiting"


def damage(path: Path, what: Damage) -> None:
    """Write ``what.value`` into the victim's row with a plain sqlite3 connection."""
    conn = sqlite3.connect(path)
    try:
        (pk,) = conn.execute("SELECT pk FROM instances WHERE id = ?", (VICTIM,)).fetchone()
        if what.table == "instances":
            sql, params = f"UPDATE instances SET {what.column} = ? WHERE pk = ?", (pk,)
        elif what.table == "plan_versions":
            sql, params = (f"UPDATE plan_versions SET {what.column} = ? "
                           "WHERE name = 'victim-plan'", ())
        else:
            sql = f"UPDATE {what.table} SET {what.column} = ? WHERE instance_pk = ?{what.where}"
            params = (pk,)
        changed = conn.execute(sql, (what.value, *params)).rowcount
        assert changed >= 1, f"no row to damage for {what.label}"
        conn.commit()
    finally:
        conn.close()


DAMAGES = [
    Damage("instances", "status", "bogus", outcome="stuck"),
    Damage("instances", "wake_at", 1e300, outcome="complete"),
    Damage("instances", "wake_at", "soon", outcome="complete"),
    Damage("instances", "wake_at", float("inf"), outcome="complete"),
    Damage("instances", "created_at", "yesterday"),
    Damage("instances", "updated_at", 1e300, outcome="complete"),  # an event rewrites it
    Damage("instances", "plan_version", "two"),
    Damage("instances", "crashes", "many"),
    Damage("instances", "paused_at", -1e20),
    Damage("instances", "output", b"\x00\xff"),
    Damage("instances", "error", "not json", outcome="complete"),
    Damage("instances", "params", "{not json"),
    Damage("instances", "control", "explode"),
    Damage("steps", "seq", "first", " AND seq = 0"),
    Damage("steps", "attempts", "three", " AND seq = 0"),
    Damage("steps", "state", "committed", " AND seq = 0"),
    Damage("steps", "state", "bogus", " AND seq = 2"),
    Damage("steps", "kind", "teleport", " AND seq = 0"),
    Damage("steps", "occurrence", "x", " AND seq = 0"),
    Damage("steps", "name", b"\x01", " AND seq = 0"),
    Damage("steps", "started_at", "noon", " AND seq = 0"),
    Damage("steps", "wake_at", 1e300, " AND seq = 2"),
    Damage("steps", "result", "{", " AND seq = 0"),
    Damage("steps", "result", '"not a time"', " AND seq = 1"),
    Damage("steps", "config", "[1]", " AND seq = 0"),
    Damage("steps", "detail", "{}", " AND seq = 0"),
    Damage("events", "payload", "{bad", " AND type = 'note'"),
    Damage("events", "created_at", "noon", " AND type = 'note'"),
    Damage("events", "type", b"\x01", " AND type = 'note'"),
    Damage("logs", "at", "x", outcome="complete"),
    Damage("logs", "line", b"\x00\xff", outcome="complete"),
    Damage("audit", "at", "x", outcome="complete"),
    Damage("audit", "detail", "[not json", outcome="complete"),
]
