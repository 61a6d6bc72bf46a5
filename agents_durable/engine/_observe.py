"""What the engine tells an observer: the seam for metrics and traces.

The engine calls ``engine.observer`` at the points where work actually happens: an
activation, a step callback attempt that runs (a replayed step returns its stored outcome
before any of these fire, so it is never observed), a tool call, a committed journal row, a
claim, a store failure. In process isolation the step attempts run in a runner, which tells
the engine when each begins and ends; the engine observes them here, and runs the tool
calls of an attempt inside its observation. The base class observes nothing; the HTTP
server installs one that feeds Prometheus and, with the ``otel`` extra, OpenTelemetry
(``agents_durable.server``). An observer must be cheap and must not raise: its failures are
logged once and ignored, so telemetry can never fail an instance.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

__all__ = ["Observer", "observe_commit", "observed", "observing"]

logger = logging.getLogger("agents_durable")


class Observer:
    """Receives the engine's work as it happens. Override what you need."""

    @contextlib.contextmanager
    def activation(self, agent_id: str, instance_id: str, plan: str) -> Iterator[None]:
        """Around one activation (a replay of ``run`` until it finishes or suspends)."""
        yield

    @contextlib.contextmanager
    def step(self, agent_id: str, instance_id: str, name: str, attempt: int) -> Iterator[None]:
        """Around one attempt of a ``step.do`` callback that really runs (never a replay)."""
        yield

    @property
    def observes_steps(self) -> bool:
        """Whether ``step`` does anything. A runner process tells the engine of its step
        attempts (two frames each) only when it does."""
        return type(self).step is not Observer.step

    @contextlib.contextmanager
    def tool(self, agent_id: str, instance_id: str, name: str) -> Iterator[None]:
        """Around one host tool call."""
        yield

    def step_committed(self, agent_id: str, kind: str, state: str,
                       seconds: float | None) -> None:
        """A journal row was committed; ``seconds`` from first start to end once settled."""

    def activation_failed(self, agent_id: str, reason: str) -> None:
        """An activation ended in an engine error or a store failure (not a plan error)."""

    def claimed(self, agent_id: str, lag: float) -> None:
        """An instance was claimed ``lag`` seconds after it became due."""

    def store_failed(self, error: BaseException) -> None:
        """A store call failed (infrastructure; the engine retries)."""


_reported: set[str] = set()


def _report(where: str, error: BaseException) -> None:
    if where not in _reported:
        _reported.add(where)
        logger.warning("the engine's observer failed in %s (%s: %s); telemetry may be "
                       "incomplete", where, type(error).__name__, error)


def observed(observer: Observer, method: str, *args: Any) -> None:
    """Call ``observer.method(*args)``; an observer's failure never reaches the engine."""
    try:
        getattr(observer, method)(*args)
    except Exception as error:
        _report(method, error)


def observe_commit(observer: Observer, agent_id: str, step: Any) -> None:
    """A journal row of ``agent_id`` committed (inline, or served for a runner)."""
    took = (step.ended_at - step.started_at
            if step.ended_at is not None and step.started_at is not None else None)
    observed(observer, "step_committed", agent_id, step.kind, step.state, took)


_NOTHING = contextlib.nullcontext()


def observing(observer: Observer, method: str,
              *args: Any) -> contextlib.AbstractContextManager[None]:
    """``with observer.method(*args):`` around engine work, failures of the observer
    (entering or leaving) logged and ignored; the work's own exceptions pass through.

    A method the observer does not override (the base class's ``yield``) is skipped
    outright: the engine enters one of these per activation and per step attempt.
    """
    if getattr(type(observer), method, None) is getattr(Observer, method) and \
            method not in getattr(observer, "__dict__", ()):
        return _NOTHING
    return _observing(observer, method, *args)


@contextlib.contextmanager
def _observing(observer: Observer, method: str, *args: Any) -> Iterator[None]:
    try:
        manager = getattr(observer, method)(*args)
        manager.__enter__()
    except Exception as error:
        _report(method, error)
        yield
        return
    try:
        yield
    except BaseException as exc:
        try:
            manager.__exit__(type(exc), exc, exc.__traceback__)
        except Exception as error:
            _report(method, error)
        raise
    else:
        try:
            manager.__exit__(None, None, None)
        except Exception as error:
            _report(method, error)
