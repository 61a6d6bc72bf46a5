"""The public data models: plan versions, instance status, history, limits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal, overload

from pydantic import BaseModel, ConfigDict, Field

from agents_durable.plans._outline import OutlineEntry
from agents_durable.store import (
    EventRecord,
    InstanceRecord,
    LogRecord,
    PlanVersionRecord,
    StepRecord,
)

__all__ = [
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


class PlanVersion(BaseModel):
    """A registered plan: immutable, addressed by name + version or by content hash."""

    model_config = ConfigDict(frozen=True)

    agent_id: str
    name: str
    version: int
    hash: str
    description: str
    outline: list[OutlineEntry]
    created: dt.datetime
    source: str = Field(repr=False)

    @classmethod
    def from_record(cls, record: PlanVersionRecord) -> PlanVersion:
        return cls(agent_id=record.agent_id, name=record.name, version=record.version,
                   hash=record.hash, description=record.description,
                   outline=[OutlineEntry(**e) for e in json.loads(record.outline)],
                   created=_time(record.created_at), source=record.source)

    def _repr_html_(self) -> str:
        from agents_durable.display import render_plan_version

        return render_plan_version(self)

    def __str__(self) -> str:
        from agents_durable.display import plan_version_text

        return plan_version_text(self)


class ErrorInfo(BaseModel):
    """Why an instance errored: the error's class name, its message, the step it was in,
    and, for an error raised by plan code, the plan line (number and text) that raised it."""

    model_config = ConfigDict(frozen=True)

    name: str
    message: str
    step: str | None = None
    line: int | None = None
    source: str | None = None


def _error_info(text: str | None) -> ErrorInfo | None:
    if not text:
        return None
    stored = _decoded(text, shape=dict)
    try:
        return ErrorInfo(**stored)
    except (TypeError, ValueError):
        return ErrorInfo(name="CorruptRecord", message=f"undecodable error: {text[:200]}")


class StepEntry(BaseModel):
    """One journal entry: a step's identity, state, attempts and outcome."""

    model_config = ConfigDict(frozen=True)

    seq: int
    kind: str
    name: str
    occurrence: int
    state: Literal["done", "failed", "waiting", "retrying"]
    attempts: int
    started: dt.datetime | None
    ended: dt.datetime | None
    wake_at: dt.datetime | None
    result: Any = None
    error: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    attempt_log: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def from_record(cls, record: StepRecord) -> StepEntry:
        return cls(seq=record.seq, kind=record.kind, name=record.name,
                   occurrence=record.occurrence, state=record.state,  # type: ignore[arg-type]
                   attempts=record.attempts, started=_time(record.started_at),
                   ended=_time(record.ended_at), wake_at=_time(record.wake_at),
                   result=_decoded(record.result),
                   error=_decoded(record.error or None, shape=dict),
                   config=_decoded(record.config or None, shape=dict),
                   attempt_log=_decoded(record.detail or None, [], shape=list))


class EventEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    type: str
    payload: Any
    timestamp: dt.datetime
    consumed_by_step: int | None

    @classmethod
    def from_record(cls, record: EventRecord) -> EventEntry:
        return cls(seq=record.seq, type=record.type, payload=_decoded(record.payload),
                   timestamp=_time(record.created_at), consumed_by_step=record.consumed_by)


class LogEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: dt.datetime
    line: str

    @classmethod
    def from_record(cls, record: LogRecord) -> LogEntry:
        return cls(at=_time(record.at), line=record.line)


class InstanceStatus(BaseModel):
    """What ``handle.status()`` returns."""

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

    @property
    def finished(self) -> bool:
        return self.status in ("complete", "errored", "terminated")

    @classmethod
    def from_record(cls, record: InstanceRecord,
                    steps: list[StepRecord] | None = None) -> InstanceStatus:
        status = record.status
        if status == "running" and record.control == "pause":
            status = "waiting_for_pause"
        return cls(id=record.id, status=status,  # type: ignore[arg-type]
                   output=_decoded(record.output),
                   error=_error_info(record.error),
                   plan=record.plan_name, version=record.plan_version,
                   plan_hash=record.plan_hash, created=_time(record.created_at),
                   updated=_time(record.updated_at), wake_at=_time(record.wake_at),
                   steps=[StepEntry.from_record(s) for s in steps or []])

    def _repr_html_(self) -> str:
        from agents_durable.display import render_instance_status

        return render_instance_status(self)

    def __str__(self) -> str:
        from agents_durable.display import instance_status_text

        return instance_status_text(self)


class History(BaseModel):
    """The whole journal of an instance: steps, events received, and captured logs."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: InstanceStatus
    steps: list[StepEntry]
    events: list[EventEntry]
    logs: list[LogEntry]

    def _repr_html_(self) -> str:
        from agents_durable.display import render_history

        return render_history(self)

    def __str__(self) -> str:
        from agents_durable.display import history_text

        return history_text(self)


class InstanceList(BaseModel):
    """One page of ``agent.list()``; pass ``next_cursor`` back for the next page."""

    model_config = ConfigDict(frozen=True)

    items: list[InstanceStatus]
    next_cursor: str | None = None
