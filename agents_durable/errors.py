"""Every exception agents_durable raises, in one tree.

The tree is split by who can act on the error::

    AgentsDurableError                    base of everything a host may catch
    ├── PlanError                         the authoring agent fixes the plan
    │   ├── PlanRejected                  validation or compilation failed (.diagnostics)
    │   └── PlanNotFound                  no plan version with that name or hash (for this agent)
    ├── RunError                          an instance failed while running
    │   ├── NondeterminismError           replay asked for other steps than the journal holds
    │   ├── BudgetExceeded                fuel, size, recursion or CPU budget of a plan ran out
    │   ├── LimitExceeded                 a SPEC limit: payload/result size, steps, sleep length
    │   ├── ToolError                     a tool call failed or was used outside a step
    │   │   └── ToolUsageError            the plan misused a tool (not granted, outside a
    │   │                                 step, non-JSON arguments): never retried
    │   ├── PlanRuntimeError              the plan raised, returned non-JSON, or misused the API
    │   └── QuarantinedError              the instance was in flight during two engine crashes
    ├── UsageError                        the host developer called the API wrongly
    │   ├── InvalidDuration               "3 fortnights", a negative number, a naive datetime...
    │   ├── InvalidInstanceId             an id outside ^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$
    │   ├── InstanceNotFound              unknown id, or another agent's id (indistinguishable)
    │   ├── InstanceExists                the id is already taken for this agent
    │   ├── InstanceNotActive             the instance finished (or, to delete, has not yet)
    │   ├── UpgradeRefused                the target plan does not replay the journal (.checks)
    │   ├── ToolNotFound                  a grant or call names a tool nobody registered
    │   └── EngineClosed                  the engine was used after it closed
    └── StoreError                        infrastructure: the database
        ├── EngineLocked                  another engine process owns this SQLite file
        ├── LeaseLost                     another worker claimed the instance since (fenced)
        ├── StoreUnavailable              the database failed (disk full, locked, I/O); retried
        └── CorruptRecord                 a row could not be decoded; the instance is errored

Plan-visible errors (plans name them without import; they are ordinary ``Exception``
subclasses so a plan may catch them)::

    NonRetryableError                     raised by a step callback: stop retrying now
    StepFailed                            a step exhausted its retries (.step, .cause, .message)
    EventTimeout                          wait_for_event reached its timeout (.step, .type)

Engine signals (plans cannot name or catch these; they derive from ``BaseException``
because a plan may not write ``except BaseException`` or a bare ``except:``) live in
``agents_durable.engine._signals``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class _Finding(Protocol):
    """What ``PlanRejected`` needs of a diagnostic (``agents_durable.plans.Diagnostic``,
    which sits above this module: the error tree imports nothing of the package)."""

    @property
    def severity(self) -> str: ...

    def format(self) -> str: ...

__all__ = [
    "AgentsDurableError",
    "BudgetExceeded",
    "CorruptRecord",
    "EngineClosed",
    "EngineLocked",
    "EventTimeout",
    "InstanceExists",
    "InstanceNotActive",
    "InstanceNotFound",
    "InvalidDuration",
    "InvalidInstanceId",
    "LeaseLost",
    "LimitExceeded",
    "NonRetryableError",
    "NondeterminismError",
    "PlanError",
    "PlanNotFound",
    "PlanRejected",
    "PlanRuntimeError",
    "QuarantinedError",
    "RunError",
    "StepFailed",
    "StoreError",
    "StoreUnavailable",
    "ToolError",
    "ToolNotFound",
    "ToolUsageError",
    "UpgradeRefused",
    "UsageError",
]


class AgentsDurableError(Exception):
    """Base class of every error agents_durable raises to a host."""


class PlanError(AgentsDurableError):
    """The plan itself is wrong; the agent that wrote it can fix it."""


class PlanRejected(PlanError):
    """A plan failed validation or compilation. ``diagnostics`` says where and how to fix it."""

    def __init__(self, diagnostics: Sequence[_Finding]) -> None:
        #: The ``agents_durable.plans.Diagnostic`` findings (typed loosely: this module
        #: sits below ``plans`` and does not name it).
        self.diagnostics: list[Any] = list(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        head = "; ".join(d.format() for d in errors[:3])
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"plan rejected with {len(errors)} error(s): {head}{more}")


class PlanNotFound(PlanError):
    """No plan version with this name or hash exists for this agent."""


class RunError(AgentsDurableError):
    """An instance failed while running. ``status().error.name`` is the class name."""


class NondeterminismError(RunError):
    """Replay requested a different step than the journal recorded at that position.

    ``recorded`` and ``requested`` are ``(kind, name, occurrence)`` of the two steps (None
    where the divergence was not at one step call)."""

    def __init__(self, message: str, *, recorded: tuple[str, str, int] | None = None,
                 requested: tuple[str, str, int] | None = None) -> None:
        self.recorded = recorded
        self.requested = requested
        super().__init__(message)


class BudgetExceeded(RunError):
    """A plan used more fuel, memory, recursion depth or CPU time than its policy allows."""


class LimitExceeded(RunError):
    """A configured limit was exceeded: payload or result size, step count, sleep length."""


class ToolError(RunError):
    """A tool call failed, returned non-JSON data, or was made outside a step callback."""


class ToolUsageError(ToolError):
    """The plan used a tool wrongly: not granted, called outside a step callback, with
    arguments that are not JSON, or awaited twice. Retrying cannot help, so it is not."""


class PlanRuntimeError(RunError):
    """The plan raised, returned non-JSON output, or used the step API wrongly at run time."""


class QuarantinedError(RunError):
    """The instance's activation was in flight during two engine crashes; it is not retried."""


class UsageError(AgentsDurableError, ValueError):
    """The host called the API wrongly (bad argument, wrong state)."""


class InvalidDuration(UsageError):
    """A duration is malformed, negative, too long, or uses an unknown unit."""


class InvalidInstanceId(UsageError):
    """An instance id does not match ``^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$``."""


class InstanceNotFound(UsageError):
    """No instance with this id exists for this agent (a foreign id looks exactly the same)."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        super().__init__(f"no instance with id {instance_id!r}")


class InstanceExists(UsageError):
    """An instance with this id already exists for this agent."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        super().__init__(f"an instance with id {instance_id!r} already exists")


class InstanceNotActive(UsageError):
    """The instance is finished (complete, errored or terminated) and cannot take this call,
    or, for ``delete``, it has not finished yet."""

    def __init__(self, instance_id: str, status: str, operation: str) -> None:
        self.instance_id = instance_id
        self.status = status
        super().__init__(f"cannot {operation} instance {instance_id!r}: it is {status}")


class UpgradeRefused(UsageError):
    """An upgrade or a fork was refused: the target plan version does not replay the
    instance's journal exactly. ``checks`` holds the ``UpgradeCheck`` of each refused
    instance (its first divergence, with the plan line)."""

    def __init__(self, message: str, checks: Sequence[Any] = ()) -> None:
        self.checks = list(checks)
        super().__init__(message)


class ToolNotFound(UsageError):
    """A grant or a call names a tool that no one registered."""


class EngineClosed(UsageError):
    """The engine was used after its ``async with`` block ended."""


class StoreError(AgentsDurableError):
    """The database failed or holds something it should not."""


class EngineLocked(StoreError):
    """Another engine process already runs on this SQLite database file."""


class LeaseLost(StoreError):
    """A write of an activation was refused: its lease expired and another worker claimed
    the instance since (the fencing token no longer holds). Nothing was written; the
    worker drops the activation, and the new owner replays the instance."""


class StoreUnavailable(StoreError):
    """The database could not complete an operation: disk full, locked past the busy
    timeout, an I/O error. Nothing was written. The engine hands the instance back and
    retries with backoff; a host call that raises it may simply be retried."""


class CorruptRecord(StoreError):
    """A stored row could not be decoded."""


# -- errors plan code sees and may catch -----------------------------------------------


class NonRetryableError(Exception):
    """Raise this from a step callback to fail the step at once, without further retries."""


class StepFailed(Exception):
    """A step ran out of retries (or raised ``NonRetryableError``).

    ``cause`` is the name of the last exception's class and ``message`` its text; both are
    persisted, so replay raises an identical error.
    """

    def __init__(self, step: str, cause: str, message: str, attempts: int = 1) -> None:
        self.step = step
        self.cause = cause
        self.message = message
        self.attempts = attempts
        super().__init__(f"step {step!r} failed after {attempts} attempt(s): {cause}: {message}")

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "cause": self.cause, "message": self.message,
                "attempts": self.attempts}


class EventTimeout(Exception):
    """``step.wait_for_event`` reached its timeout before a matching event arrived."""

    def __init__(self, step: str, type: str) -> None:
        self.step = step
        self.type = type
        super().__init__(f"step {step!r} timed out waiting for an event of type {type!r}")
