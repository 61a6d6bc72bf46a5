"""Rows to records, defensively: one damaged row stays one damaged instance.

A row can be damaged outside the engine (a manual ``UPDATE``, a restore gone wrong, a
disk fault): an unknown status, a text ``seq``, a ``wake_at`` of 1e300, a payload that is
not JSON. Reading such a row must never raise, or one bad row would break ``list()`` for
a whole agent. So every decoder here checks each column's type and range and returns a
record whose bad fields hold safe placeholders and whose ``corrupt`` says what was wrong
(``"instances.wake_at holds 1e+300, not a time"``).

Running is stricter than reading: ``replay_problem`` and ``instance_run_problem`` say
why an instance must not run (a corrupt row, a journal field whose JSON has the wrong
shape, an unknown step state that would otherwise re-run a committed step); the store
then refuses to hand out its journal and the engine errors it with ``CorruptRecord``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from agents_durable.errors import CorruptRecord
from agents_durable.store._records import (
    ACTIVE_STATUSES,
    STEP_KINDS,
    STEP_STATES,
    TERMINAL_STATUSES,
    AuditRecord,
    EventRecord,
    InstanceRecord,
    LogRecord,
    PlanVersionRecord,
    StepRecord,
)

__all__ = [
    "child_result",
    "corrupt_instance",
    "decode_audit",
    "decode_event",
    "decode_instance",
    "decode_log",
    "decode_plan_version",
    "decode_step",
    "event_replay_problem",
    "instance_run_problem",
    "step_replay_problem",
]

#: The epoch seconds a ``datetime`` can show: years 1 to 9999.
_EARLIEST, _LATEST = -62135596800.0, 253402300799.0
_CONTROLS = frozenset({"pause", "resume", "terminate", "restart"})
_STATUSES = ACTIVE_STATUSES | TERMINAL_STATUSES


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes of binary data"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Columns:
    """Checks the columns of one row, collecting what is wrong instead of raising."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.problems: list[str] = []

    def bad(self, column: str, value: Any, expected: str) -> None:
        self.problems.append(f"{self.table}.{column} holds {_show(value)}, not {expected}")

    @property
    def corrupt(self) -> str | None:
        return "; ".join(self.problems) or None

    def text(self, column: str, value: Any) -> str:
        if isinstance(value, str):
            return value
        self.bad(column, value, "text")
        return "" if value is None else str(value)[:200]

    def optional_text(self, column: str, value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        self.bad(column, value, "text")
        return None

    def integer(self, column: str, value: Any, minimum: int = 0) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
            return value
        self.bad(column, value, f"an integer >= {minimum}")
        return minimum

    def optional_integer(self, column: str, value: Any) -> int | None:
        return None if value is None else self.integer(column, value)

    def time(self, column: str, value: Any) -> float:
        if (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and _EARLIEST <= value <= _LATEST):
            return float(value)
        self.bad(column, value, "a time (epoch seconds between the years 1 and 9999)")
        return 0.0

    def optional_time(self, column: str, value: Any) -> float | None:
        if value is None:
            return None
        before = len(self.problems)
        checked = self.time(column, value)
        return None if len(self.problems) > before else checked

    def choice(self, column: str, value: Any, choices: Collection[str], fallback: str,
               what: str) -> str:
        if isinstance(value, str) and value in choices:
            return value
        self.bad(column, value, what)
        return fallback

    def json(self, column: str, value: str | None, shape: type | tuple[type, ...],
             what: str) -> None:
        """A JSON column of the given shape (None, the SQL NULL, always passes)."""
        if value is None:
            return
        try:
            decoded = json.loads(value)
        except (ValueError, TypeError, RecursionError):
            self.bad(column, value, "valid JSON")
            return
        if not isinstance(decoded, shape):
            self.bad(column, value, what)


def decode_instance(row: Any) -> InstanceRecord:
    """An ``instances`` row (``_INSTANCE_COLUMNS`` order) as a record; never raises."""
    (pk, agent_id, id, plan_name, plan_version, plan_hash, params, status, output, error,
     created_at, updated_at, wake_at, control, paused_at, crashes) = row
    c = _Columns("instances")
    record = InstanceRecord(
        pk=pk, agent_id=c.text("agent_id", agent_id), id=c.text("id", id),
        plan_name=c.text("plan_name", plan_name),
        plan_version=c.integer("plan_version", plan_version, 1),
        plan_hash=c.text("plan_hash", plan_hash), params=c.text("params", params),
        status=c.choice("status", status, _STATUSES, "errored", "a known status"),
        output=c.optional_text("output", output), error=c.optional_text("error", error),
        created_at=c.time("created_at", created_at),
        updated_at=c.time("updated_at", updated_at),
        wake_at=c.optional_time("wake_at", wake_at),
        control=None if control is None else c.choice(
            "control", control, _CONTROLS, "", "pause, resume, terminate or restart") or None,
        paused_at=c.optional_time("paused_at", paused_at),
        crashes=c.integer("crashes", crashes))
    return record if c.corrupt is None else replace(record, corrupt=c.corrupt)


def _time_or_none(value: Any) -> bool:
    return value is None or ((type(value) is float or type(value) is int) and (
        _EARLIEST <= value <= _LATEST))


def _text_or_none(value: Any) -> bool:
    return value is None or type(value) is str


def decode_step(row: Any) -> StepRecord:
    """A ``steps`` row (``_STEP_COLUMNS`` order) as a record; never raises.

    An unknown ``state`` reads as ``"corrupt"``, which no replay accepts.
    """
    (seq, kind, name, occurrence, state, result, error, config, attempts, started_at,
     ended_at, wake_at, detail, scope, position) = row
    # The common case, a healthy row, in one expression: a replay decodes every row of
    # a journal, so the per-column checks below run only when something is off.
    if (type(seq) is int and seq >= 0 and kind in STEP_KINDS and type(name) is str
            and type(occurrence) is int and occurrence >= 1 and state in STEP_STATES
            and _text_or_none(result) and _text_or_none(error) and _text_or_none(config)
            and type(attempts) is int and attempts >= 0 and _time_or_none(started_at)
            and _time_or_none(ended_at) and _time_or_none(wake_at)
            and _text_or_none(detail) and type(scope) is str
            and (position is None or (type(position) is int and position >= 0))):
        return StepRecord(seq, kind, name, occurrence, state, result, error, config,
                          attempts, started_at, ended_at, wake_at, detail, scope, position)
    c = _Columns("steps")
    record = StepRecord(
        seq=c.integer("seq", seq), kind=c.choice("kind", kind, STEP_KINDS, "corrupt",
                                                 "a step kind"),
        name=c.text("name", name), occurrence=c.integer("occurrence", occurrence, 1),
        state=c.choice("state", state, STEP_STATES, "corrupt",
                       "a step state (done, failed, waiting or retrying)"),
        result=c.optional_text("result", result), error=c.optional_text("error", error),
        config=c.optional_text("config", config), attempts=c.integer("attempts", attempts),
        started_at=c.optional_time("started_at", started_at),
        ended_at=c.optional_time("ended_at", ended_at),
        wake_at=c.optional_time("wake_at", wake_at),
        detail=c.optional_text("detail", detail), scope=c.text("scope", scope),
        position=c.optional_integer("position", position))
    record.corrupt = c.corrupt
    return record


def decode_event(row: Any) -> EventRecord:
    """An ``events`` row (seq, type, payload, created_at, consumed_by); never raises."""
    seq, type, payload, created_at, consumed_by = row
    c = _Columns("events")
    values = (c.integer("seq", seq), c.text("type", type), c.text("payload", payload),
              c.time("created_at", created_at), c.optional_integer("consumed_by", consumed_by))
    return EventRecord(*values, corrupt=c.corrupt)


def decode_log(row: Any) -> LogRecord:
    """A ``logs`` row (seq, at, line); never raises."""
    seq, at, line = row
    c = _Columns("logs")
    values = (c.integer("seq", seq), c.time("at", at), c.text("line", line))
    return LogRecord(*values, corrupt=c.corrupt)


def decode_audit(row: Any) -> AuditRecord:
    """An ``audit`` row (seq, at, action, detail); never raises."""
    seq, at, action, detail = row
    c = _Columns("audit")
    values = (c.integer("seq", seq), c.time("at", at), c.text("action", action),
              c.text("detail", detail))
    c.json("detail", values[3], dict, "a JSON object")
    return AuditRecord(*values, corrupt=c.corrupt)


def decode_plan_version(row: Any) -> PlanVersionRecord:
    """A ``plan_versions`` row (``_PLAN_COLUMNS`` order); never raises.

    The small JSON columns (outline, policy) are checked here too: a plan whose policy
    does not decode cannot be compiled, and must say so by column.
    """
    agent_id, name, version, hash, source, description, outline, policy, created_at = row
    c = _Columns("plan_versions")
    values = (c.text("agent_id", agent_id), c.text("name", name),
              c.integer("version", version, 1), c.text("hash", hash),
              c.text("source", source), c.text("description", description),
              c.text("outline", outline), c.text("policy", policy),
              c.time("created_at", created_at))
    c.json("outline", values[6], list, "a JSON list")
    c.json("policy", values[7], dict, "a JSON object")
    return PlanVersionRecord(*values, corrupt=c.corrupt)


# -- what running needs --------------------------------------------------------------------

_ANY_JSON: tuple[type, ...] = (dict, list, str, int, float, bool, type(None))
_DIGITS = "0123456789"
#: How the JSON text of each shape starts and ends (the engine writes compact JSON).
_FRAMES: dict[str, tuple[str, str]] = {
    "a JSON object": ("{", "}"), "a JSON list": ("[", "]"), "a JSON string": ('"', '"'),
    "a JSON number": ("-" + _DIGITS, _DIGITS), "JSON": ('{["-tfn' + _DIGITS, '}]"el' + _DIGITS),
}
#: The JSON shape each step kind's ``result`` must have for replay to use it.
_RESULT_SHAPES = {"now": "a JSON number", "random": "a JSON number", "uuid": "a JSON string",
                  "wait_for_event": "a JSON object"}


def _framed(value: str | None, shape: str) -> bool:
    """Whether JSON text has the first and last character of ``shape``: a cheap check of
    shape and truncation for every journal row of every replay (the replay decodes the
    text itself, and reports text that still does not decode as ``CorruptRecord``)."""
    if value is None:
        return True
    first, last = _FRAMES[shape]
    return bool(value) and value[0] in first and value[-1] in last


def instance_run_problem(record: InstanceRecord) -> str | None:
    """Why this instance row cannot run, or None: a corrupt column or undecodable params."""
    if record.corrupt is not None:
        return record.corrupt
    c = _Columns("instances")
    c.json("params", record.params, _ANY_JSON, "JSON")
    return c.corrupt


def step_replay_problem(step: StepRecord) -> str | None:
    """Why replay must not use this journal row, or None.

    The JSON columns replay reads are checked for their shape, so the plan never meets a
    ``TypeError`` from a damaged row.
    """
    result_shape = _RESULT_SHAPES.get(step.kind, "JSON") if step.state == "done" else None
    if step.corrupt is None and _framed(step.config, "a JSON object") and _framed(
            step.error, "a JSON object") and _framed(step.detail, "a JSON list") and (
            result_shape is None or _framed(step.result, result_shape)):
        return None
    c = _Columns("steps")
    if step.corrupt is not None:
        c.problems.append(step.corrupt)
    for column, shape in (("config", "a JSON object"), ("error", "a JSON object"),
                          ("detail", "a JSON list"), ("result", result_shape)):
        value = getattr(step, column)
        if shape is not None and not _framed(value, shape):
            c.bad(column, value, shape)
    problem = c.corrupt
    if problem is None:
        return None
    return f"step #{step.seq} ({step.kind} {step.name!r}): {problem}"


def event_replay_problem(event: EventRecord) -> str | None:
    """Why an unconsumed event cannot be delivered, or None."""
    c = _Columns("events")
    if event.corrupt is not None:
        c.problems.append(event.corrupt)
    c.json("payload", event.payload, _ANY_JSON, "JSON")
    problem = c.corrupt
    return None if problem is None else f"event #{event.seq} ({event.type!r}): {problem}"


def corrupt_instance(instance_id: str, problem: str) -> CorruptRecord:
    """The error an instance with a damaged row is errored with."""
    return CorruptRecord(
        f"instance {instance_id!r} cannot run: {problem}. The row was changed outside the "
        "engine; restore it from a backup, or restart or terminate the instance")


def child_result(text: str | None) -> object:
    """A child's stored output or error, as its parent's child-ended event carries it."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"name": "CorruptRecord", "message": "the child's stored result is damaged"}
