"""Plain records that cross the store boundary. JSON columns stay as text here; the engine
decodes them. Times are epoch seconds (float, UTC)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ACTIVE_STATUSES",
    "CHILD_EVENT",
    "RESERVED_EVENT_PREFIX",
    "STEP_KINDS",
    "STEP_STATES",
    "TERMINAL_STATUSES",
    "AuditRecord",
    "DiscardedStepRecord",
    "EventRecord",
    "Finish",
    "InstanceRecord",
    "Journal",
    "LogRecord",
    "NewInstance",
    "PlanVersionRecord",
    "ScheduleRecord",
    "StepRecord",
    "TokenRecord",
]

#: The event type a child instance's end is delivered to its parent as (payload: ``{id,
#: status, output, error}``). Types under ``agents_durable.`` are the engine's: hosts and
#: plans cannot send or wait for them.
CHILD_EVENT = "agents_durable.child_ended"
RESERVED_EVENT_PREFIX = "agents_durable."
TERMINAL_STATUSES = frozenset({"complete", "errored", "terminated"})
ACTIVE_STATUSES = frozenset({"queued", "running", "waiting", "paused"})
STEP_STATES = frozenset({"done", "failed", "waiting", "retrying"})
STEP_KINDS = frozenset({"do", "sleep", "sleep_until", "wait_for_event", "now", "random",
                        "uuid", "child"})

#: Every record read back from the store carries ``corrupt``: None for a healthy row, else
#: what could not be decoded ("instances.wake_at holds 1e+300, not a time"). The other
#: fields of a corrupt record hold safe placeholders, so reading one damaged row never
#: raises; the engine refuses to run an instance whose rows are corrupt.


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
    corrupt: str | None = None


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
    corrupt: str | None = None
    #: The fencing token of the claim that handed this record out (0 outside a claim):
    #: every write of the activation carries it, and a store with leases refuses the
    #: write once another worker has claimed the instance since (``LeaseLost``).
    lease: int = 0


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
    #: The branch path of the ``step.gather`` branch the step ran in ("" outside any).
    scope: str = ""
    #: The step's index within its scope: with ``scope`` its identity for replay. None on
    #: rows recorded before scopes existed (replayed by ``seq`` instead).
    position: int | None = None
    corrupt: str | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    seq: int
    type: str
    payload: str
    created_at: float
    consumed_by: int | None = None
    corrupt: str | None = None


@dataclass(frozen=True, slots=True)
class LogRecord:
    seq: int
    at: float
    line: str
    corrupt: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An operator action on an instance: ``pause``, ``resume``, ``terminate`` or ``restart``.

    ``detail`` is JSON: the status the instance had (``was``) and, for a restart, the step
    it restarts from (``from_step``: ``{name, occurrence, seq}``, or null for the top).
    """

    seq: int
    at: float
    action: str
    detail: str
    corrupt: str | None = None


@dataclass(frozen=True, slots=True)
class DiscardedStepRecord:
    """A journal row a restart removed from replay, kept readable. ``audit_seq`` is the
    restart's audit entry."""

    audit_seq: int
    step: StepRecord


@dataclass(slots=True)
class Journal:
    """What an activation needs, loaded together: recorded steps and unconsumed events."""

    steps: dict[int, StepRecord] = field(default_factory=dict)
    events: list[EventRecord] = field(default_factory=list)
    last_event_seq: int = 0
    #: What earlier activations logged, counted against the instance's log quota.
    log_lines: int = 0
    log_bytes: int = 0


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
    #: Journal rows the activation had not committed yet, each with the event it
    #: consumes: written first, in this order, in the same transaction as the end.
    steps: tuple[tuple[StepRecord, int | None], ...] = ()


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token of the HTTP server, as stored: never the token itself, its SHA-256.

    ``agent_id`` is the agent (tenant) the token acts as, or None for an ``operator``
    token, which sees every agent. ``revoked_at`` is None while the token is valid.
    """

    id: str
    agent_id: str | None
    role: str
    label: str
    created_at: float
    revoked_at: float | None = None


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    """A named cron schedule of one agent: which plan it starts, when, and how.

    ``next_at`` is the earliest slot not handled yet (epoch seconds); ``held`` a slot that
    waits for the previous instance to end (``overlap="queue"``).
    """

    agent_id: str
    name: str
    plan: str
    cron: str
    timezone: str
    params: str  # JSON
    overlap: str  # skip | queue | allow
    catch_up: str  # none | latest | all
    paused: bool
    next_at: float | None
    held: float | None
    created_at: float
