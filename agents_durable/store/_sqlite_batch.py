"""Many activations' ends written with a handful of statements (SQLite).

Every statement the store's thread runs gives up the GIL and must take it back, and while
the event loop's thread is running plan code that costs up to a switch interval (5 ms)
each time. One end written statement by statement is about eight statements; a
wake-up herd commits batches of dozens of ends. ``finish_many`` writes a batch with about
five statements in all, whatever its size: multi-row ``INSERT``, one ``SELECT`` of the
controls, one ``UPDATE ... FROM`` a ``VALUES`` list.

It takes only the common case: instances with no parent and no children to stop, no
pending restart, each instance once. Anything else goes to ``one`` (the statement by
statement end, ``sqlite._finish_in``) for the whole batch, so the two paths can never
disagree about an end that involves another instance.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from agents_durable.store._records import TERMINAL_STATUSES, Finish, StepRecord

__all__ = ["STEP_COLUMNS", "finish_many", "step_row"]

STEP_COLUMNS = ("seq, kind, name, occurrence, state, result, error, config, attempts, "
                "started_at, ended_at, wake_at, detail, scope, position")

#: Rows per multi-row statement: 16 values each, well inside SQLite's 32,766 variables.
_ROWS = 500
_TERMINAL = tuple(sorted(TERMINAL_STATUSES))

End = tuple[int, Finish, float]


def step_row(pk: int, step: StepRecord) -> tuple[Any, ...]:
    return (pk, step.seq, step.kind, step.name, step.occurrence, step.state, step.result,
            step.error, step.config, step.attempts, step.started_at, step.ended_at,
            step.wake_at, step.detail, step.scope, step.position)


def _marks(count: int, width: int) -> str:
    row = "(" + ", ".join("?" * width) + ")"
    return ", ".join([row] * count)


def _chunks(rows: Sequence[Any]) -> list[Sequence[Any]]:
    return [rows[start:start + _ROWS] for start in range(0, len(rows), _ROWS)]


def finish_many(conn: sqlite3.Connection, ends: list[End],
                one: Callable[[sqlite3.Connection, int, Finish, float], str]) -> list[str]:
    """Write ``ends`` (``(pk, finish, now)`` each) in the caller's transaction; the status
    each instance ended in, as ``one`` would have returned it."""
    pks = [pk for pk, _, _ in ends]
    if len(ends) == 1 or len(set(pks)) < len(pks) or sqlite3.sqlite_version_info < (3, 33):
        return [one(conn, *end) for end in ends]
    controls: dict[int, str | None] = {}
    family = False
    for chunk in _chunks(pks):
        marks = ", ".join("?" * len(chunk))
        for pk, control, parent_pk in conn.execute(
                f"SELECT pk, control, parent_pk FROM instances "
                f"WHERE pk IN ({marks})", chunk):
            controls[pk] = control
            family = family or control == "restart" or parent_pk is not None
        family = family or conn.execute(
            f"SELECT 1 FROM instances WHERE parent_pk IN ({marks}) AND on_parent_end = "
            f"'terminate' AND status NOT IN ({', '.join('?' * len(_TERMINAL))}) LIMIT 1",
            (*chunk, *_TERMINAL)).fetchone() is not None
    if family:  # an end that touches another instance: one by one, in order
        return [one(conn, *end) for end in ends]

    steps = [step_row(pk, step) for pk, finish, _ in ends for step, _ in finish.steps]
    for chunk in _chunks(steps):
        conn.execute(f"INSERT OR REPLACE INTO steps (instance_pk, {STEP_COLUMNS}) VALUES "
                     f"{_marks(len(chunk), 16)}", [value for row in chunk for value in row])
    consumed = [(step.seq, event) for _, finish, _ in ends for step, event in finish.steps
                if event is not None]
    if consumed:
        conn.executemany("UPDATE events SET consumed_by = ? WHERE seq = ?", consumed)
    logs = [(pk, now, line) for pk, finish, now in ends for line in finish.logs]
    if logs:
        conn.executemany("INSERT INTO logs (instance_pk, at, line) VALUES (?, ?, ?)", logs)

    waiting = [pk for pk, finish, _ in ends
               if finish.status == "waiting" and controls.get(pk) not in ("terminate", "pause")]
    newest: dict[int, int] = {}
    for chunk in _chunks(waiting):
        marks = ", ".join("?" * len(chunk))
        newest.update(conn.execute(
            f"SELECT instance_pk, MAX(seq) FROM events WHERE instance_pk IN ({marks}) "
            "AND consumed_by IS NULL GROUP BY instance_pk", chunk).fetchall())

    rows: list[tuple[Any, ...]] = []
    statuses: list[str] = []
    for pk, finish, now in ends:
        status, wake_at, paused_at = finish.status, finish.wake_at, None
        if status in ("waiting", "queued"):
            control = controls.get(pk)
            if control == "terminate":
                status, wake_at = "terminated", None
            elif control == "pause":
                status, wake_at, paused_at = "paused", None, now
            elif status == "waiting" and newest.get(pk, -1) > finish.last_event_seq:
                wake_at = now  # an event arrived while it ran: look again
        rows.append((pk, status, wake_at, finish.output, finish.error, paused_at,
                     finish.handed_back, now))
        statuses.append(status)
    for chunk in _chunks(rows):
        # handed back: no verdict on the instance, it keeps its crash count; any other end
        # proves the plan did not crash the engine
        conn.execute(
            "WITH ends (pk, status, wake_at, output, error, paused_at, handed_back, now) AS "
            f"(VALUES {_marks(len(chunk), 8)}) "
            "UPDATE instances SET status = ends.status, wake_at = ends.wake_at, "
            "output = ends.output, error = ends.error, control = NULL, restart_from = NULL, "
            "paused_at = ends.paused_at, crashes = CASE WHEN ends.handed_back "
            "THEN MIN(instances.crashes, 1) ELSE 0 END, updated_at = ends.now "
            "FROM ends WHERE instances.pk = ends.pk", [value for row in chunk for value in row])
    return statuses
