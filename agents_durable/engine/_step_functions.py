"""Step functions: what ``@step.do("name")`` makes, run the way Cloudflare's Python
Workflows run them.

``await load()`` makes one ``step.do`` call in the caller's scope, so it replays like any
other step. When it runs, a parameter named ``ctx`` receives the step context, and a
parameter named like an earlier step function of the plan receives that step's result.
A dependency that has not run yet runs once, for its first call (its *owner*): other
dependents, in other gather branches, wait for that run, and the first call, when it is
awaited, returns the same result. Branches start in argument order and reach this point
before their first step, so the run lands in the same scope on every replay.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import anyio

from agents_durable.engine._facades import StepFunction, StepFunctionCall
from agents_durable.errors import PlanRuntimeError

if TYPE_CHECKING:
    from agents_durable.engine._activation import Activation

__all__ = ["WithContext", "run_step_function"]


class WithContext:
    """A step function's body as a step callback: takes the context iff it wants it."""

    __slots__ = ("fn", "wants")

    def __init__(self, fn: Any, wants: bool) -> None:
        self.fn = fn
        self.wants = wants

    def __call__(self, *context: Any) -> Any:
        return self.fn(*context)


async def run_step_function(activation: Activation, function: StepFunction,
                            args: tuple[Any, ...], kwargs: dict[str, Any],
                            resolving: tuple[str, ...] = (),
                            call: StepFunctionCall | None = None) -> Any:
    """Run one call of ``function``: resolve its injected parameters, then make the step."""
    if call is not None and call is function._owner and function._done is not None:
        # A dependent already ran this first call's step on its behalf: same result.
        return await _result_of(function, function._name)
    if function._done is None:
        function._done = anyio.Event()
    fn = function._fn
    try:
        injected = await _inject(activation, function, fn, args, kwargs,
                                 (*resolving, function._name))
        wants_context = "ctx" in injected

        def body(*context: Any) -> Any:
            extra = dict(injected)
            if wants_context:
                extra["ctx"] = context[0]
            return fn(*args, **kwargs, **extra)

        step_call = activation.new_call("do", function._name, (
            WithContext(body, wants_context), function._config))
        result = await step_call
        function._result = (result,)
        return result
    finally:
        function._done.set()


async def _inject(activation: Activation, function: StepFunction, fn: Any,
                  args: tuple[Any, ...], kwargs: dict[str, Any],
                  resolving: tuple[str, ...]) -> dict[str, Any]:
    """The parameters the engine fills: ``ctx`` (a placeholder, set per attempt) and the
    results of earlier step functions named by a parameter."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return {}
    injected: dict[str, Any] = {}
    for index, parameter in enumerate(parameters):
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if index < len(args) and parameter.kind != parameter.KEYWORD_ONLY:
            continue
        if parameter.name in kwargs:
            continue
        if parameter.name == "ctx":
            injected["ctx"] = None  # filled with the context at each attempt
            continue
        dependency = activation.step_functions.get(parameter.name)
        if dependency is not None and dependency is not function:
            injected[parameter.name] = await _dependency(activation, dependency, function,
                                                         resolving)
        elif parameter.default is parameter.empty:
            raise PlanRuntimeError(
                f"step function {function._name!r} needs {parameter.name!r}: pass it in the "
                "call, or name the parameter after an earlier @step.do function (its result "
                "is passed), or `ctx` (the step context)")
    return injected


async def _dependency(activation: Activation, dependency: StepFunction,
                      dependent: StepFunction, resolving: tuple[str, ...]) -> Any:
    """The result of ``dependency`` for an injected parameter of ``dependent``."""
    if dependency._name in resolving:
        chain = " -> ".join((*resolving, dependency._name))
        raise PlanRuntimeError(f"step functions depend on each other in a cycle ({chain}); "
                               "a step function can only take the result of one that does "
                               "not need it")
    if dependency._result is not None:
        return dependency._result[0]
    if dependency._done is not None:  # running (or ran) elsewhere: wait for it
        return await _result_of(dependency, dependent._name)
    if dependency._owner is None:
        dependency._owner = StepFunctionCall(dependency, (), {})
    return await run_step_function(activation, dependency, (), {}, resolving)


async def _result_of(function: StepFunction, needed_by: str) -> Any:
    await function._done.wait()
    if function._result is None:
        raise PlanRuntimeError(f"step function {function._name!r}, which {needed_by!r} needs, "
                               "did not produce a result")
    return function._result[0]
