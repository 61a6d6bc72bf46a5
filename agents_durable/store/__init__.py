"""Persistence behind one small async ``Store`` protocol.

``sqlite`` (aiosqlite) is the embedded default. The protocol is written so that a
PostgreSQL implementation can follow without touching the engine.
"""

from __future__ import annotations

from agents_durable.store._protocol import Store
from agents_durable.store._records import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    AuditRecord,
    DiscardedStepRecord,
    EventRecord,
    Finish,
    InstanceRecord,
    Journal,
    LogRecord,
    NewInstance,
    PlanVersionRecord,
    StepRecord,
    TokenRecord,
)
from agents_durable.store.sqlite import SQLiteStore, store_for

__all__ = [
    "ACTIVE_STATUSES",
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
    "SQLiteStore",
    "StepRecord",
    "Store",
    "TokenRecord",
    "store_for",
]
