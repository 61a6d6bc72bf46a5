"""Plain records that cross the store boundary. JSON columns stay as text here; the engine
decodes them. Times are epoch seconds (float, UTC)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ACTIVE_STATUSES",
    "TERMINAL_STATUSES",
    "EventRecord",
    "Finish",
    "InstanceRecord",
    "Journal",
    "LogRecord",
    "NewInstance",
    "PlanVersionRecord",
    "StepRecord",
]

TERMINAL_STATUSES = frozenset({"complete", "errored", "terminated"})
ACTIVE_STATUSES = frozenset({"queued", "running", "waiting", "paused"})


@dataclass(frozen=True, slots=True)
class PlanVersionRecord:
    agent_id: str
    name: str
    version: int
    hash: str
    source: str
    description: str
    outline: str  # JSON list
    policy: str  # JSON of the PlanPolicy it was compiled under
    created_at: float


@dataclass(frozen=True, slots=True)
class NewInstance:
    agent_id: str
    id: str
    plan_name: str
    plan_version: int
    plan_hash: str
    params: str  # JSON
    created_at: float


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    pk: int
    agent_id: str
    id: str
    plan_name: str
    plan_version: int
    plan_hash: str
    params: str
    status: str
    output: str | None
    error: str | None
    created_at: float
    updated_at: float
    wake_at: float | None
    control: str | None
    paused_at: float | None
    crashes: int


@dataclass(slots=True)
class StepRecord:
    """One journal row: a step's identity, its state and its outcome.

    ``state``: ``done`` (result holds the JSON result), ``failed`` (error holds the JSON
    error), ``waiting`` (a sleep or event wait, due at ``wake_at``), ``retrying`` (attempt
    ``attempts`` failed; the next one is due at ``wake_at``).
    """

    seq: int
    kind: str
    name: str
    occurrence: int
    state: str
    result: str | None = None
    error: str | None = None
    config: str | None = None
    attempts: int = 0
    started_at: float | None = None
    ended_at: float | None = None
    wake_at: float | None = None
    detail: str | None = None  # JSON list of attempts: [{attempt, start, end, error}]


@dataclass(frozen=True, slots=True)
class EventRecord:
    seq: int
    type: str
    payload: str
    created_at: float
    consumed_by: int | None = None


@dataclass(frozen=True, slots=True)
class LogRecord:
    seq: int
    at: float
    line: str


@dataclass(slots=True)
class Journal:
    """What an activation needs, loaded together: recorded steps and unconsumed events."""

    steps: dict[int, StepRecord] = field(default_factory=dict)
    events: list[EventRecord] = field(default_factory=list)
    last_event_seq: int = 0


@dataclass(frozen=True, slots=True)
class Finish:
    """How an activation ended.

    ``status``: ``complete``, ``errored`` or ``waiting`` (suspended until ``wake_at``, or an
    event when ``wake_at`` is None); ``queued`` releases the instance for another run.
    """

    status: str
    wake_at: float | None = None
    output: str | None = None
    error: str | None = None
    logs: tuple[str, ...] = ()
    last_event_seq: int = 0
    #: The activation ended without a verdict (cancelled, or the store failed): the
    #: instance keeps its crash count. Only meaningful with ``status="queued"``.
    handed_back: bool = False
