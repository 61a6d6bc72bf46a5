"""The objects plan code holds: ``event``, ``step``, step contexts and step awaitables.

Each is a ``__slots__`` class whose private state starts with an underscore (unreachable
from plan code) and whose public attributes are listed in its ``@facade`` registration.
Step calls return ``StepCall`` objects, never raw coroutines, so a plan has no
``send``/``throw``/``close``/``cr_frame`` to reach for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agents_durable.errors import PlanRuntimeError
from agents_durable.plans._guards import facade

if TYPE_CHECKING:
    from agents_durable.engine._activation import Activation

__all__ = ["Event", "Step", "StepCall", "StepContext"]

STEP_METHODS = ("do", "sleep", "sleep_until", "wait_for_event", "now", "random", "uuid",
                "gather")


@facade("payload", "instance_id", "timestamp", "agent_id")
class Event:
    """``event`` in ``run(event, step)``: the instance's params and identity, read-only."""

    __slots__ = ("agent_id", "instance_id", "payload", "timestamp")
    plan_name = "event"

    def __init__(self, payload: Any, instance_id: str, timestamp: dt.datetime,
                 agent_id: str) -> None:
        self.payload = payload
        self.instance_id = instance_id
        self.timestamp = timestamp
        self.agent_id = agent_id

    def __repr__(self) -> str:
        return f"<event instance_id={self.instance_id!r}>"


@facade("name", "occurrence", "attempt", "idempotency_key")
class StepContext:
    """What a step callback receives if it takes one parameter."""

    __slots__ = ("_owner", "attempt", "idempotency_key", "name", "occurrence")
    plan_name = "step context"

    def __init__(self, owner: Any, name: str, occurrence: int, attempt: int,
                 idempotency_key: str) -> None:
        self._owner = owner
        self.name = name
        self.occurrence = occurrence
        self.attempt = attempt
        self.idempotency_key = idempotency_key

    @property
    def owner(self) -> Any:
        return self._owner

    def __repr__(self) -> str:
        return f"<step context {self.name!r} attempt {self.attempt}>"


@facade()
class StepCall:
    """The awaitable a ``step.*`` call returns. Await it exactly once."""

    __slots__ = ("_activation", "_args", "_awaited", "_kind", "_name", "_occurrence", "_seq")
    plan_name = "step"

    def __init__(self, activation: Activation, kind: str, name: str, occurrence: int,
                 seq: int, args: tuple[Any, ...]) -> None:
        self._activation = activation
        self._kind = kind
        self._name = name
        self._occurrence = occurrence
        self._seq = seq
        self._args = args
        self._awaited = False

    def __await__(self) -> Any:
        if self._awaited:
            raise PlanRuntimeError(f"step {self._name!r} was awaited twice; await each step "
                                   "call exactly once")
        self._awaited = True
        activation = self._activation
        result = yield from activation.execute(self).__await__()
        activation.budget.resume()
        return result

    def __repr__(self) -> str:
        return f"<step {self._kind} {self._name!r}>"


@facade(*STEP_METHODS)
class Step:
    """``step`` in ``run(event, step)``: the only door to durable effects and time."""

    __slots__ = ("_activation",)
    plan_name = "step"

    def __init__(self, activation: Activation) -> None:
        self._activation = activation

    def do(self, name: Any, fn: Any = None, *, retries: Any = None,
           timeout: Any = None) -> Any:
        """Run ``fn`` once (with retries) and persist its JSON result; or a decorator."""
        activation = self._activation
        config = activation.step_config(retries, timeout)
        if fn is None:
            def decorate(callback: Callable[..., Any]) -> Callable[[], StepCall]:
                return lambda: activation.new_call("do", name, (callback, config))

            return decorate
        return activation.new_call("do", name, (fn, config))

    def sleep(self, name: Any, duration: Any) -> StepCall:
        """Sleep durably for ``duration`` (seconds, timedelta or "2 days")."""
        return self._activation.new_call("sleep", name, (duration,))

    def sleep_until(self, name: Any, when: Any) -> StepCall:
        """Sleep durably until ``when`` (aware datetime, ISO-8601 text or epoch seconds)."""
        return self._activation.new_call("sleep_until", name, (when,))

    def wait_for_event(self, name: Any, *, type: Any, timeout: Any = "24 hours",
                       match: Any = None) -> StepCall:
        """Wait for an event of ``type`` sent to this instance; raise EventTimeout."""
        return self._activation.new_call("wait_for_event", name, (type, timeout, match))

    def now(self) -> StepCall:
        """The current time as an aware datetime, recorded so replay sees the same."""
        return self._activation.new_call("now", "now", ())

    def random(self) -> StepCall:
        """A float in [0, 1), recorded so replay sees the same."""
        return self._activation.new_call("random", "random", ())

    def uuid(self) -> StepCall:
        """A random UUID4 string, recorded so replay sees the same."""
        return self._activation.new_call("uuid", "uuid", ())

    def gather(self, *calls: Any) -> Any:
        """Run step awaitables concurrently; results in argument order."""
        return self._activation.gather(calls)

    def __repr__(self) -> str:
        return "<step>"
