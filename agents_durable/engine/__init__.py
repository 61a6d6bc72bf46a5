"""The shared durable runtime: engine lifecycle and scheduler, activations (replays of
``run(event, step)``), the step facade plans see, durations, retries, events, timers,
the agent-scoped instance API, and the tool registry."""

from __future__ import annotations

from agents_durable.engine._agent import AgentScope, Instance
from agents_durable.engine._clock import Clock, SystemClock
from agents_durable.engine._durations import parse_duration, parse_instant
from agents_durable.engine._engine import Engine
from agents_durable.engine._models import (
    ErrorInfo,
    EventEntry,
    History,
    InstanceList,
    InstanceStatus,
    Limits,
    LogEntry,
    PlanVersion,
    StepEntry,
)
from agents_durable.engine._observe import Observer
from agents_durable.engine._replay_check import (
    Divergence,
    StepRef,
    UpgradeCheck,
    UpgradeReport,
)
from agents_durable.engine._retention import RetentionPolicy
from agents_durable.engine._schedules import Schedule
from agents_durable.engine._tools import ToolRegistry, ToolSpec

__all__ = [
    "AgentScope",
    "Clock",
    "Divergence",
    "Engine",
    "ErrorInfo",
    "EventEntry",
    "History",
    "Instance",
    "InstanceList",
    "InstanceStatus",
    "Limits",
    "LogEntry",
    "Observer",
    "PlanVersion",
    "RetentionPolicy",
    "Schedule",
    "StepEntry",
    "StepRef",
    "SystemClock",
    "ToolRegistry",
    "ToolSpec",
    "UpgradeCheck",
    "UpgradeReport",
    "parse_duration",
    "parse_instant",
]
