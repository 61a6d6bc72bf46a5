"""The public data models: plan versions, instance status, history, limits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal, overload

from pydantic import BaseModel, ConfigDict, Field

from agents_durable._rich import RichModel
from agents_durable.plans._outline import OutlineEntry
from agents_durable.store import (
    AuditRecord,
    DiscardedStepRecord,
    EventRecord,
    InstanceRecord,
    LogRecord,
    PlanVersionRecord,
    StepRecord,
)
from agents_durable.store._decode import event_replay_problem, step_replay_problem

__all__ = [
    "AuditEntry",
    "DiscardedStep",
    "ErrorInfo",
    "EventEntry",
    "History",
    "InstanceList",
    "InstanceStatus",
    "Limits",
    "LogEntry",
    "PlanVersion",
    "Status",
    "StepEntry",
]

Status = Literal["queued", "running", "waiting", "waiting_for_pause", "paused", "complete",
                 "errored", "terminated"]


def _decoded(text: str | None, default: Any = None, *, shape: type | None = None) -> Any:
    """A stored JSON field for display. A row that does not decode stays readable as
    ``{"undecodable": <the start of the text>}`` so an operator can inspect a corrupt
    instance instead of meeting a decoding error (the engine itself errors that instance
    with ``CorruptRecord`` when it tries to replay it)."""
    if text is None:
        return default
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        value = None
    else:
        if shape is None or isinstance(value, shape):
            return value
    marker = {"undecodable": str(text)[:200]}
    return [marker] if shape is list else marker


@overload
def _time(value: float) -> dt.datetime: ...
@overload
def _time(value: float | None) -> dt.datetime | None: ...
def _time(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC)


class Limits(BaseModel):
    """Engine-wide limits (SPEC defaults). Exceeding one fails that step or instance."""

    model_config = ConfigDict(frozen=True)

    max_payload_bytes: int = 1024 * 1024
    max_result_bytes: int = 1024 * 1024
    max_steps: int = 10_000
    max_sleep_seconds: float = 365 * 86400.0
    #: Quotas on what one instance stores across all its activations (in the spirit of
    #: Cloudflare's 100 MB of state per instance): journal bytes (results, errors, configs,
    #: attempt logs), log lines and log bytes, and distinct event waits.
    max_journal_bytes: int = 100 * 1024 * 1024
    max_log_lines: int = 100_000
    max_log_bytes: int = 10 * 1024 * 1024
    max_waits: int = 1_000
    #: What all of one agent's instances may store together, journals and logs.
    max_agent_bytes: int = 10 * 1024 ** 3


def _outline(text: str) -> tuple[list[OutlineEntry], str | None]:
    """A stored outline, or ``([], what was wrong)`` for one that does not decode."""
    entries = _decoded(text, [], shape=list)
    try:
        return [OutlineEntry(**entry) for entry in entries], None
    except (TypeError, ValueError):
        return [], f"plan_versions.outline holds {str(text)[:60]!r}, not an outline"


class PlanVersion(RichModel, BaseModel):
    """A registered plan: immutable, addressed by name + version or by content hash.

    ``corrupt`` is None unless the stored row was damaged; it then says which column holds
    what, and the other fields show safe placeholders.
    """

    model_config = ConfigDict(frozen=True)

    agent_id: str
    name: str
    version: int
    hash: str
    description: str
    outline: list[OutlineEntry]
    created: dt.datetime
    source: str = Field(repr=False)
    corrupt: str | None = None

    @classmethod
    def from_record(cls, record: PlanVersionRecord) -> PlanVersion:
        outline, problem = _outline(record.outline)
        corrupt = "; ".join(p for p in (record.corrupt, problem) if p) or None
        return cls(agent_id=record.agent_id, name=record.name, version=record.version,
                   hash=record.hash, description=record.description, outline=outline,
                   created=_time(record.created_at), source=record.source, corrupt=corrupt)


class ErrorInfo(BaseModel):
    """Why an instance errored: the error's class name, its message, the step it was in,
    and, for an error raised by plan code, the plan's ``line`` number and its ``source``."""

    model_config = ConfigDict(frozen=True)

    name: str
    message: str
    step: str | None = None
    line: int | None = None
    source: str | None = None

    @property
    def where(self) -> str | None:
        """``line 12: total = sum(x)`` when the error carries its plan line, else None."""
        if self.line is None:
            return None
        return f"line {self.line}: {self.source.strip()}" if self.source else f"line {self.line}"


def _error_info(text: str | None) -> ErrorInfo | None:
    """The stored ``{name, message, step, line?, source?}``. Unknown extra keys are
    ignored and a key of the wrong type is dropped, so a newer engine's richer errors
    (or a damaged one) still read; only an error that is no JSON object reads as
    ``CorruptRecord``."""
    if not text:
        return None
    stored = _decoded(text, shape=dict)
    if "undecodable" in stored or not isinstance(stored.get("name"), str):
        return ErrorInfo(name="CorruptRecord",
                         message=f"instances.error holds {str(text)[:200]!r}, not an error")
    line = stored.get("line")
    return ErrorInfo(
        name=stored["name"], message=str(stored.get("message", "")),
        step=stored["step"] if isinstance(stored.get("step"), str) else None,
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        source=stored["source"] if isinstance(stored.get("source"), str) else None)


class StepEntry(BaseModel):
    """One journal entry: a step's identity, state, attempts and outcome.

    ``state`` is ``corrupt`` (and ``corrupt`` says why) for a row damaged outside the
    engine; the engine errors such an instance instead of replaying it.
    """

    model_config = ConfigDict(frozen=True)

    seq: int
    kind: str
    name: str
    occurrence: int
    state: Literal["done", "failed", "waiting", "retrying", "corrupt"]
    attempts: int
    started: dt.datetime | None
    ended: dt.datetime | None
    wake_at: dt.datetime | None
    result: Any = None
    error: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    attempt_log: list[dict[str, Any]] = Field(default_factory=list)
    corrupt: str | None = None

    @classmethod
    def from_record(cls, record: StepRecord) -> StepEntry:
        log = [entry if isinstance(entry, dict) else {"undecodable": str(entry)[:200]}
               for entry in _decoded(record.detail or None, [], shape=list)]
        return cls(seq=record.seq, kind=record.kind, name=record.name,
                   occurrence=record.occurrence, state=record.state,  # type: ignore[arg-type]
                   attempts=record.attempts, started=_time(record.started_at),
                   ended=_time(record.ended_at), wake_at=_time(record.wake_at),
                   result=_decoded(record.result),
                   error=_decoded(record.error or None, shape=dict),
                   config=_decoded(record.config or None, shape=dict),
                   attempt_log=log, corrupt=step_replay_problem(record))


class DiscardedStep(StepEntry):
    """A journal entry a restart took out of replay, kept readable: ``discarded_by`` is the
    ``seq`` of that restart's entry in ``History.audit``."""

    discarded_by: int

    @classmethod
    def from_discarded(cls, record: DiscardedStepRecord) -> DiscardedStep:
        entry = StepEntry.from_record(record.step)
        return cls(**dict(entry), discarded_by=record.audit_seq)


class AuditEntry(BaseModel):
    """One operator action on the instance: ``pause``, ``resume``, ``terminate`` or
    ``restart``, when it was requested, the status the instance had then (``was``), and
    for a restart the step it restarts from (None: from the top). ``deferred`` means the
    instance was running: the action took effect when its activation stopped."""

    model_config = ConfigDict(frozen=True)

    seq: int
    action: str
    at: dt.datetime
    was: str | None = None
    deferred: bool = False
    from_step: dict[str, Any] | None = None
    #: The whole stored detail (``upgrade``: ``from_plan``/``to_plan``; ``fork``: ``to``;
    #: ``forked``: ``from``).
    detail: dict[str, Any] = Field(default_factory=dict)
    corrupt: str | None = None

    @classmethod
    def from_record(cls, record: AuditRecord) -> AuditEntry:
        detail = _decoded(record.detail, {}, shape=dict)
        step = detail.get("from_step")
        return cls(seq=record.seq, action=record.action, at=_time(record.at),
                   was=detail["was"] if isinstance(detail.get("was"), str) else None,
                   deferred=detail.get("deferred") is True,
                   from_step=step if isinstance(step, dict) else None,
                   detail=detail, corrupt=record.corrupt)


class EventEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    type: str
    payload: Any
    timestamp: dt.datetime
    consumed_by_step: int | None
    corrupt: str | None = None

    @classmethod
    def from_record(cls, record: EventRecord) -> EventEntry:
        return cls(seq=record.seq, type=record.type, payload=_decoded(record.payload),
                   timestamp=_time(record.created_at), consumed_by_step=record.consumed_by,
                   corrupt=event_replay_problem(record))


class LogEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: dt.datetime
    line: str
    corrupt: str | None = None

    @classmethod
    def from_record(cls, record: LogRecord) -> LogEntry:
        return cls(at=_time(record.at), line=record.line, corrupt=record.corrupt)


class InstanceStatus(RichModel, BaseModel):
    """What ``handle.status()`` returns.

    ``corrupt`` is None unless the instance's row was damaged outside the engine: it then
    names each bad column and its value, the bad fields show safe placeholders (an
    unknown status shows as ``errored``), and ``error`` is a ``CorruptRecord`` unless the
    row holds an error of its own.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    status: Status
    output: Any = None
    error: ErrorInfo | None = None
    plan: str
    version: int
    plan_hash: str
    created: dt.datetime
    updated: dt.datetime
    wake_at: dt.datetime | None = None
    steps: list[StepEntry] = Field(default_factory=list)
    corrupt: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("complete", "errored", "terminated")

    @classmethod
    def from_record(cls, record: InstanceRecord, steps: list[StepRecord] | None = None, *,
                    corrupt: str | None = None) -> InstanceStatus:
        """``corrupt`` overrides ``record.corrupt`` with a deeper check (``status()``
        also decodes the params, which a listing of many instances does not)."""
        corrupt = corrupt or record.corrupt
        status = record.status
        if status == "running" and record.control == "pause":
            status = "waiting_for_pause"
        error = _error_info(record.error)
        if error is None and corrupt is not None:
            error = ErrorInfo(name="CorruptRecord", message=corrupt)
        return cls(id=record.id, status=status,  # type: ignore[arg-type]
                   output=_decoded(record.output), error=error,
                   plan=record.plan_name, version=record.plan_version,
                   plan_hash=record.plan_hash, created=_time(record.created_at),
                   updated=_time(record.updated_at), wake_at=_time(record.wake_at),
                   steps=[StepEntry.from_record(s) for s in steps or []],
                   corrupt=corrupt)


class History(RichModel, BaseModel):
    """The whole journal of an instance: steps, events received, captured logs, and the
    audit trail: every operator action (``audit``) and the steps restarts discarded
    (``discarded_steps``, which replay never sees)."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: InstanceStatus
    steps: list[StepEntry]
    events: list[EventEntry]
    logs: list[LogEntry]
    audit: list[AuditEntry] = Field(default_factory=list)
    discarded_steps: list[DiscardedStep] = Field(default_factory=list)


class InstanceList(BaseModel):
    """One page of ``agent.list()``; pass ``next_cursor`` back for the next page."""

    model_config = ConfigDict(frozen=True)

    items: list[InstanceStatus]
    next_cursor: str | None = None
