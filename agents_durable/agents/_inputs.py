"""The arguments of each toolkit function, as pydantic models.

These models are the one source of every tool schema: ``PlanToolkit`` validates its
arguments through them (so a plain-Python call and a framework call fail the same way),
and each framework adapter hands the same model to its framework. Field descriptions are
written for the model that calls the tool.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents_durable.engine._models import Status

__all__ = [
    "CheckPlanInput",
    "ListInstancesInput",
    "ListPlansInput",
    "PlanHistoryInput",
    "PlanStatusInput",
    "SendPlanEventInput",
    "StartPlanInput",
    "SubmitPlanInput",
    "UpgradeInstancesInput",
]

#: The longest ``plan_status(wait_seconds=...)`` a model may ask for, in real seconds.
MAX_WAIT_SECONDS = 30.0

_SOURCE = ("The complete plan: a Python module with a docstring and "
           "`async def run(event, step)`, as plain source text (no Markdown fences).")
_INSTANCE_ID = "The id of one of your instances, as returned by start_plan or list_instances."


class _Input(BaseModel):
    # Unknown keys are refused rather than dropped: a misspelled argument should be a
    # visible mistake the model can fix, not a silently ignored one.
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckPlanInput(_Input):
    """Arguments of check_plan."""

    source: str = Field(description=_SOURCE)


class SubmitPlanInput(_Input):
    """Arguments of submit_plan."""

    name: str = Field(description="The plan's name, e.g. 'order-followup'. Submitting new "
                                  "source under an existing name adds a new version.")
    source: str = Field(description=_SOURCE)


class StartPlanInput(_Input):
    """Arguments of start_plan."""

    name: str = Field(description="The name of a plan you submitted (its latest version "
                                  "runs).")
    params: dict[str, Any] | None = Field(
        default=None, description="JSON object the plan reads as `event.payload`.")
    id: str | None = Field(
        default=None, description="Optional instance id: 1-100 characters from A-Z, a-z, "
                                  "0-9, '_' and '-', not starting with '-'. Omit it for a "
                                  "random id.")


class PlanStatusInput(_Input):
    """Arguments of plan_status."""

    instance_id: str = Field(description=_INSTANCE_ID)
    wait_seconds: float = Field(
        default=0, ge=0, le=MAX_WAIT_SECONDS,
        description="Wait up to this many seconds (at most 30) for the instance to finish "
                    "before answering. 0 answers at once.")


class PlanHistoryInput(_Input):
    """Arguments of plan_history."""

    instance_id: str = Field(description=_INSTANCE_ID)


class SendPlanEventInput(_Input):
    """Arguments of send_plan_event."""

    instance_id: str = Field(description=_INSTANCE_ID)
    type: str = Field(description="The event type a `step.wait_for_event(..., type=...)` "
                                  "in the plan waits for.")
    payload: dict[str, Any] | None = Field(
        default=None, description="JSON object the plan receives as the event's "
                                  "`payload`.")


class ListPlansInput(_Input):
    """list_plans takes no arguments."""


class ListInstancesInput(_Input):
    """Arguments of list_instances."""

    status: Status | None = Field(
        default=None, description="Only instances in this status; omit for all.")


class UpgradeInstancesInput(_Input):
    """Arguments of upgrade_instances."""

    plan: str = Field(description="The name of the plan whose running instances should "
                                  "move to a newer version you submitted.")
    version: int | None = Field(
        default=None, ge=1, description="The version to move them to; omit for the "
                                        "plan's latest version.")
    instance_ids: list[str] | None = Field(
        default=None, max_length=100,
        description="Only these instances; omit for every running instance of the plan.")
    dry_run: bool = Field(
        default=False, description="Only check which instances the version replays "
                                   "exactly; move nothing.")
