"""agents_durable: durable plans written by AI agents.

An agent writes a plan (a Python module with ``async def run(event, step)``); the library
validates it, compiles it under RestrictedPython with its own guards and budgets, pins it
by content hash, and one shared engine runs every agent's instances durably on SQLite.
"""

from __future__ import annotations

from agents_durable import display as display  # registers the models' views
from agents_durable import testing
from agents_durable.engine import (
    AgentScope,
    Engine,
    ErrorInfo,
    History,
    Instance,
    InstanceList,
    InstanceStatus,
    Limits,
    PlanVersion,
    RetentionPolicy,
    StepEntry,
)
from agents_durable.errors import (
    AgentsDurableError,
    BudgetExceeded,
    CorruptRecord,
    EngineClosed,
    EngineLocked,
    EventTimeout,
    InstanceExists,
    InstanceNotActive,
    InstanceNotFound,
    InvalidDuration,
    InvalidInstanceId,
    LimitExceeded,
    NondeterminismError,
    NonRetryableError,
    PlanError,
    PlanNotFound,
    PlanRejected,
    PlanRuntimeError,
    QuarantinedError,
    RunError,
    StepFailed,
    StoreError,
    StoreUnavailable,
    ToolError,
    ToolNotFound,
    ToolUsageError,
    UsageError,
)
from agents_durable.plans import (
    CompiledPlan,
    Diagnostic,
    OutlineEntry,
    PlanPolicy,
    compile_plan,
    validate_plan,
)

__version__ = "0.1.0"

__all__ = [
    "AgentScope",
    "AgentsDurableError",
    "BudgetExceeded",
    "CompiledPlan",
    "CorruptRecord",
    "Diagnostic",
    "Engine",
    "EngineClosed",
    "EngineLocked",
    "ErrorInfo",
    "EventTimeout",
    "History",
    "Instance",
    "InstanceExists",
    "InstanceList",
    "InstanceNotActive",
    "InstanceNotFound",
    "InstanceStatus",
    "InvalidDuration",
    "InvalidInstanceId",
    "LimitExceeded",
    "Limits",
    "NonRetryableError",
    "NondeterminismError",
    "OutlineEntry",
    "PlanError",
    "PlanNotFound",
    "PlanPolicy",
    "PlanRejected",
    "PlanRuntimeError",
    "PlanVersion",
    "QuarantinedError",
    "RetentionPolicy",
    "RunError",
    "StepEntry",
    "StepFailed",
    "StoreError",
    "StoreUnavailable",
    "ToolError",
    "ToolNotFound",
    "ToolUsageError",
    "UsageError",
    "compile_plan",
    "testing",
    "validate_plan",
]
