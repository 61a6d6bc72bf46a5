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

from agents_durable.engine._retries import step_config
from agents_durable.errors import PlanRuntimeError
from agents_durable.plans._guards import facade


@facade()
class _Decorator:
    """``step.do("name")`` without a function: apply it to one with ``@``."""

    __slots__ = ("_apply", "_label")
    plan_name = "decorator"

    def __init__(self, apply: Any, label: str) -> None:
        self._apply = apply
        self._label = label

    def __call__(self, fn: Any) -> Any:
        return self._apply(fn)

    def __repr__(self) -> str:
        return f"<{self._label}>"

if TYPE_CHECKING:
    from agents_durable.engine._activation import Activation

__all__ = ["Event", "Step", "StepCall", "StepContext", "StepFunction", "StepFunctionCall"]

STEP_METHODS = ("do", "sleep", "sleep_until", "wait_for_event", "now", "random", "uuid",
                "gather", "run_plan")


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

    __slots__ = ("_effects", "_key", "_owner", "attempt", "name", "occurrence")
    plan_name = "step context"

    def __init__(self, owner: Any, name: str, occurrence: int, attempt: int,
                 idempotency_key: str | Callable[[], str]) -> None:
        self._owner = owner
        #: The attempt called a tool: its row is committed before the plan goes on.
        self._effects = False
        self.name = name
        self.occurrence = occurrence
        self.attempt = attempt
        #: The key, or what makes it: most callbacks never read it, and it is a digest.
        self._key = idempotency_key

    @property
    def idempotency_key(self) -> str:
        if not isinstance(self._key, str):
            self._key = self._key()
        return self._key

    @property
    def owner(self) -> Any:
        return self._owner

    def __repr__(self) -> str:
        return f"<step context {self.name!r} attempt {self.attempt}>"


@facade()
class StepCall:
    """The awaitable a ``step.*`` call returns. Await it exactly once."""

    __slots__ = ("_activation", "_args", "_awaited", "_id", "_kind", "_name", "_occurrence",
                 "_position", "_record", "_scope")
    plan_name = "step"

    def __init__(self, activation: Activation, kind: str, name: str, occurrence: int,
                 call_id: int, scope: str, position: int, args: tuple[Any, ...],
                 record: Any) -> None:
        self._activation = activation
        self._kind = kind
        self._name = name
        self._occurrence = occurrence
        self._id = call_id
        self._scope = scope
        self._position = position
        self._args = args
        self._record = record
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


@facade()
class StepFunction:
    """What ``@step.do("name")`` turns a function into: call it, then await the call.

    As in Cloudflare's Python Workflows: ``await load()`` runs the step (the name defaults
    to the function's name). When the step runs, a parameter named ``ctx`` receives the
    step context, and a parameter named like an earlier step function of this plan
    receives that step's result (awaiting that step first if it has not run yet).
    Arguments passed in the call are passed to the function as usual.
    """

    __slots__ = ("_activation", "_config", "_done", "_fn", "_name", "_owner", "_result")
    plan_name = "step function"

    def __init__(self, activation: Activation, name: Any, fn: Any,
                 config: dict[str, Any]) -> None:
        self._activation = activation
        self._name = name
        self._fn = fn
        self._config = config
        self._result: tuple[Any] | None = None
        #: The call that runs this step function first when others depend on it (the
        #: first call made, in program order), and the event set once it has a result.
        self._owner: StepFunctionCall | None = None
        self._done: Any = None
        activation.step_functions[getattr(fn, "__name__", "")] = self

    def __call__(self, *args: Any, **kwargs: Any) -> StepFunctionCall:
        call = StepFunctionCall(self, args, kwargs)
        if self._owner is None:
            self._owner = call
        return call

    def __await__(self) -> Any:
        raise PlanRuntimeError(
            f"step function {self._name!r} was awaited without calling it; write "
            f"`await {getattr(self._fn, '__name__', 'fn')}()` (a function decorated with "
            "@step.do is called, then awaited)")

    def __repr__(self) -> str:
        return f"<step function {self._name!r}>"


@facade()
class StepFunctionCall:
    """The awaitable a call of a step function returns (a branch when gathered)."""

    __slots__ = ("_args", "_awaited", "_function", "_kwargs")
    plan_name = "step"

    def __init__(self, function: StepFunction, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self._function = function
        self._args = args
        self._kwargs = kwargs
        self._awaited = False

    def __await__(self) -> Any:
        function = self._function
        if self._awaited:
            raise PlanRuntimeError(f"the call of step function {function._name!r} was "
                                   "awaited twice; call it again for another step")
        self._awaited = True
        activation = function._activation
        result = yield from activation.run_step_function(
            function, self._args, self._kwargs, call=self).__await__()
        activation.budget.resume()
        return result

    def __repr__(self) -> str:
        return f"<step do {self._function._name!r}>"


@facade(*STEP_METHODS)
class Step:
    """``step`` in ``run(event, step)``: the only door to durable effects and time."""

    __slots__ = ("_activation",)
    plan_name = "step"

    def __init__(self, activation: Activation) -> None:
        self._activation = activation

    def do(self, name: Any = None, fn: Any = None, *, retries: Any = None,
           timeout: Any = None) -> Any:
        """Run ``fn`` once (with retries) and persist its JSON result; or a decorator.

        ``@step.do("name")`` (or ``@step.do()``, named after the function) makes a step
        function: ``await load()`` runs it.
        """
        activation = self._activation
        config = step_config(retries, timeout)
        if fn is None:
            if callable(name) and getattr(name, "__name__", "<lambda>") != "<lambda>":
                return StepFunction(activation, name.__name__, name, config)  # bare @step.do

            def decorate(callback: Any) -> StepFunction:
                if not callable(callback):
                    raise PlanRuntimeError("@step.do(...) decorates a function (def or "
                                           "async def)")
                label = name if name is not None else getattr(callback, "__name__", None)
                return StepFunction(activation, label, callback, config)

            return _Decorator(decorate, "step.do decorator")
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

    def run_plan(self, name: Any, params: Any = None, *, id: Any = None,
                 on_parent_end: Any = "terminate") -> StepCall:
        """Run one of this agent's plans as a child instance and return its output.

        The child runs the plan's latest version at the moment this step first runs; the
        parent waits durably; a child that errors or is terminated raises ``StepFailed``.
        ``on_parent_end="keep"`` lets the child outlive its parent.
        """
        return self._activation.new_call("child", name, (params, id, on_parent_end))

    def gather(self, *calls: Any) -> Any:
        """Run step awaitables concurrently; results in argument order."""
        return self._activation.gather(calls)

    def __repr__(self) -> str:
        return "<step>"
