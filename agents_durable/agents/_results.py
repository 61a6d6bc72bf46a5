"""What each toolkit function returns: small pydantic models with documented fields only.

Results are views built field by field from the engine's public models, never dumps of
them, so a model sees its own plans and instances and nothing else: no database keys, no
other agent's data, no host paths, no reprs of host objects. Every result has ``ok``;
``ok: false`` is a :class:`ToolFailure` whose ``error`` code says what went wrong and
whose ``message`` says what to do next.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents_durable.engine._models import ErrorInfo, Status
from agents_durable.plans import Diagnostic, OutlineEntry

__all__ = [
    "AttemptView",
    "ErrorCode",
    "EventSent",
    "EventView",
    "InstanceHistory",
    "InstanceListing",
    "InstanceSummary",
    "InstanceView",
    "JournalStep",
    "LogView",
    "PlanChecked",
    "PlanListing",
    "PlanSubmitted",
    "PlanSummary",
    "StepView",
    "ToolFailure",
    "ToolResult",
    "UpgradeRefusal",
    "UpgradesDone",
]

#: Why a toolkit call failed. Stable: prompts and agents rely on these codes.
ErrorCode = Literal[
    "invalid_plan",      # the plan has errors: see diagnostics, fix them, try again
    "plan_not_found",    # no plan with that name: submit_plan it first
    "not_found",         # no instance with that id (yours, that is)
    "not_active",        # the instance finished; it cannot take this call
    "already_exists",    # an instance with that id exists: pick another id
    "invalid_argument",  # an argument is malformed (the message says which)
    "limit_exceeded",    # params or payload too large
    "unavailable",       # the engine is not running; try again later
]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolFailure(_Result):
    """A call that did not do what was asked, with what to do about it."""

    ok: Literal[False] = False
    error: ErrorCode
    message: str
    diagnostics: list[Diagnostic] = Field(default_factory=list)


class PlanChecked(_Result):
    """``check_plan`` found no errors. ``warnings`` may still be worth fixing."""

    ok: Literal[True] = True
    description: str
    outline: list[OutlineEntry]
    warnings: list[Diagnostic] = Field(default_factory=list)


class PlanSubmitted(_Result):
    """``submit_plan`` stored the plan (or found the identical source already stored)."""

    ok: Literal[True] = True
    name: str
    version: int
    hash: str
    description: str
    outline: list[OutlineEntry]


class PlanSummary(_Result):
    """One of the agent's plans: its latest version."""

    name: str
    latest_version: int
    hash: str
    description: str
    created: dt.datetime


class PlanListing(_Result):
    """``list_plans``: every plan name this agent submitted, with its latest version."""

    ok: Literal[True] = True
    plans: list[PlanSummary]


class StepView(_Result):
    """A step as ``plan_status`` shows it: identity and progress, without results."""

    name: str
    kind: str
    occurrence: int
    state: Literal["done", "failed", "waiting", "retrying", "corrupt"]
    attempts: int
    wake_at: dt.datetime | None = None


class InstanceView(_Result):
    """``start_plan`` / ``plan_status``: where an instance stands."""

    ok: Literal[True] = True
    instance_id: str
    status: Status
    plan: str
    version: int
    output: Any = None
    error: ErrorInfo | None = None
    created: dt.datetime
    updated: dt.datetime
    wake_at: dt.datetime | None = None
    steps: list[StepView] = Field(default_factory=list)


class AttemptView(_Result):
    """One attempt of a ``step.do``: when it ran and, if it failed, why."""

    attempt: int
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    error: str | None = None
    #: The plan line that raised, when the failure came from plan code.
    line: int | None = None
    source: str | None = None


class JournalStep(_Result):
    """A step as ``plan_history`` shows it: with its result or error and its attempts."""

    name: str
    kind: str
    occurrence: int
    state: Literal["done", "failed", "waiting", "retrying", "corrupt"]
    attempts: list[AttemptView]
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    wake_at: dt.datetime | None = None
    result: Any = None
    error: str | None = None


class EventView(_Result):
    """An event sent to the instance, and whether a ``wait_for_event`` took it yet."""

    type: str
    payload: Any
    timestamp: dt.datetime
    consumed: bool


class LogView(_Result):
    """A line the plan printed."""

    at: dt.datetime
    line: str


class InstanceHistory(_Result):
    """``plan_history``: the instance's journal."""

    ok: Literal[True] = True
    instance_id: str
    status: Status
    output: Any = None
    error: ErrorInfo | None = None
    steps: list[JournalStep]
    events: list[EventView]
    logs: list[LogView]


class InstanceSummary(_Result):
    """One row of ``list_instances``."""

    instance_id: str
    status: Status
    plan: str
    version: int
    created: dt.datetime
    updated: dt.datetime


class InstanceListing(_Result):
    """``list_instances``: newest first; ``more`` is true when older ones were left out."""

    ok: Literal[True] = True
    instances: list[InstanceSummary]
    more: bool


class EventSent(_Result):
    """``send_plan_event`` delivered the event; ``status`` is the instance's status then."""

    ok: Literal[True] = True
    instance_id: str
    type: str
    status: Status


class UpgradeRefusal(_Result):
    """An instance the version does not replay exactly: where its journal and the new
    code part ways (``recorded`` step vs ``requested`` step, the plan ``line``)."""

    instance_id: str
    message: str
    recorded: str | None = None
    requested: str | None = None
    line: int | None = None
    source: str | None = None


class UpgradesDone(_Result):
    """``upgrade_instances``: ``upgraded`` moved to ``version`` (with ``dry_run``: would
    move); ``refused`` stay on their version, each with its first divergence."""

    ok: Literal[True] = True
    plan: str
    version: int
    dry_run: bool
    upgraded: list[str]
    refused: list[UpgradeRefusal]


#: Anything a toolkit function returns.
ToolResult = (PlanChecked | PlanSubmitted | PlanListing | InstanceView | InstanceHistory
              | InstanceListing | EventSent | UpgradesDone | ToolFailure)
