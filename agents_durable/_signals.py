"""Engine signals: control flow that plan code must never intercept.

They derive from ``BaseException``: validation forbids bare ``except:`` and
``except BaseException`` in plans, and these classes are never put in a plan's namespace,
so a plan cannot name, catch or raise them. The engine turns each into a status.
"""

from __future__ import annotations

from agents_durable.errors import AgentsDurableError

__all__ = ["Abandon", "EngineSignal", "Fatal", "Suspend"]


class EngineSignal(BaseException):
    """Base of every signal the engine throws through plan code."""


class Suspend(EngineSignal):
    """The activation must end now; the instance resumes in a later activation."""


class Fatal(EngineSignal):
    """The instance must fail with ``error`` (budget, nondeterminism, limits, corrupt rows)."""

    def __init__(self, error: AgentsDurableError) -> None:
        super().__init__(str(error))
        self.error = error


class Abandon(EngineSignal):
    """The activation must end now with no status of its own: a journal write failed (the
    store failed, or another worker holds the instance now). The engine hands the
    instance back; plan code must not go on and record steps after the lost one."""
