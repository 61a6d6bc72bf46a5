"""Turn the library's errors into :class:`ToolFailure` results a model can act on.

A tool call that fails must come back as data, not as a traceback: the model reads the
error code and the message and tries again. Only errors from ``agents_durable.errors``
are translated; anything else is a bug in the host or in this library and propagates.

Messages are chosen so nothing leaks. "Not found" is worded by this module, never taken
from the engine, so another agent's instance id and a random id read the same. Store
errors never show their text (it can name database files).
"""

from __future__ import annotations

from pydantic import ValidationError

from agents_durable.agents._results import ToolFailure
from agents_durable.errors import (
    AgentsDurableError,
    EngineClosed,
    InstanceExists,
    InstanceNotActive,
    InstanceNotFound,
    LimitExceeded,
    PlanNotFound,
    PlanRejected,
    StoreError,
    UsageError,
)

__all__ = ["failure_from_error", "failure_from_validation", "instance_not_found"]


def instance_not_found(instance_id: str) -> ToolFailure:
    """The one answer for an id this agent has no instance under, whoever else has it."""
    return ToolFailure(error="not_found",
                       message=f"You have no instance with id {instance_id!r}. Call "
                               "list_instances to see your instances.")


def failure_from_error(error: AgentsDurableError) -> ToolFailure:
    """The failure result for ``error``; re-raises errors a model cannot act on."""
    if isinstance(error, PlanRejected):
        errors = [d for d in error.diagnostics if d.severity == "error"]
        return ToolFailure(
            error="invalid_plan", diagnostics=error.diagnostics,
            message=f"The plan has {len(errors)} error(s). Fix each diagnostic (line, "
                    "column, message, hint), then call check_plan again.")
    if isinstance(error, PlanNotFound):
        text = str(error)
        return ToolFailure(error="plan_not_found",
                           message=f"{text[:1].upper()}{text[1:]}. Call list_plans to see "
                                   "your plans, or submit_plan to add one.")
    if isinstance(error, InstanceNotFound):
        return instance_not_found(error.instance_id)
    if isinstance(error, InstanceNotActive):
        return ToolFailure(error="not_active",
                           message=f"Instance {error.instance_id!r} is {error.status}, so "
                                   "it cannot take this call. Start a new instance instead.")
    if isinstance(error, InstanceExists):
        return ToolFailure(error="already_exists",
                           message=f"You already have an instance with id "
                                   f"{error.instance_id!r}. Use another id, or omit id for "
                                   "a random one.")
    if isinstance(error, LimitExceeded):
        return ToolFailure(error="limit_exceeded", message=str(error))
    if isinstance(error, (EngineClosed, StoreError)):
        return ToolFailure(error="unavailable",
                           message="The plan engine is not available right now. Try again "
                                   "later.")
    if isinstance(error, UsageError):
        return ToolFailure(error="invalid_argument", message=str(error))
    raise error


def failure_from_validation(tool: str, error: ValidationError) -> ToolFailure:
    """The failure for arguments that do not fit ``tool``'s input model.

    Built from each error's location and message only: pydantic's own text would repeat
    the offending input, which may be large.
    """
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        problems.append(f"{where}: {item['msg']}")
    return ToolFailure(error="invalid_argument",
                       message=f"Invalid arguments for {tool}: " + "; ".join(problems))
