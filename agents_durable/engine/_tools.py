"""Host tools: registered by name, granted per agent, reachable by plans only as JSON.

A tool is any host callable, sync or async. Plans call it as ``tools.<dotted.name>(...)``
inside a step callback; the call returns an awaitable whatever the host function is.
Arguments and results are copied through JSON, so no host object ever reaches plan code
and no plan object ever reaches the host. Sync tools run in a worker thread, so a slow
tool cannot stall other agents' plans: each agent has its own thread limit, so one
agent's hung tools never take the threads of another. A sync tool that is still running
when its step is cancelled (timeout, ``terminate()``, shutdown) cannot be killed: its
thread is abandoned (it no longer counts against the agent's limit, and being a daemon
thread it does not keep the process alive) and its result is dropped.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import contextvars
import functools
import inspect
import json
import threading
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

import anyio

from agents_durable.engine._json import encode_json
from agents_durable.errors import (
    NonRetryableError,
    ToolError,
    ToolNotFound,
    ToolUsageError,
    UsageError,
)
from agents_durable.plans._guards import facade, plan_error

__all__ = ["ToolRegistry", "ToolSpec", "Tools", "current_step", "missing_tools",
           "referenced_tools", "run_tool"]

#: The step context of the callback running right now, if any (set by ``step.do``).
current_step: contextvars.ContextVar[Any] = contextvars.ContextVar("agents_durable_step",
                                                                   default=None)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A registered tool: its name, the host function, and what an agent is told about it."""

    name: str
    fn: Callable[..., Any]
    description: str
    signature: str
    is_async: bool


class ToolRegistry:
    """Every tool the host offers, by dotted name. ``engine.tools``."""

    def __init__(self, *, threads_per_agent: int = 40) -> None:
        self._tools: dict[str, ToolSpec] = {}
        #: Called after every registration (the engine re-checks the plans it skipped).
        self.listener: Callable[[], None] | None = None
        #: Sync tool calls of one agent that may run at once (each in its own thread).
        self.threads_per_agent = threads_per_agent
        self._limiters: dict[str, anyio.CapacityLimiter] = {}
        self._lock = threading.Lock()
        #: Sync tool threads still running, abandoned ones included.
        self.threads_running = 0

    def limiter(self, agent_id: str) -> anyio.CapacityLimiter:
        limiter = self._limiters.get(agent_id)
        if limiter is None:
            limiter = self._limiters[agent_id] = anyio.CapacityLimiter(self.threads_per_agent)
        return limiter

    async def run_in_thread(self, agent_id: str, fn: Callable[[], Any]) -> Any:
        """``fn()`` in a daemon thread, under ``agent_id``'s thread limit.

        Cancelling the caller abandons the thread at once: its limiter token is returned
        and its eventual result dropped. A daemon thread, so a hung tool never keeps the
        process from exiting.
        """
        async with self.limiter(agent_id):
            loop = asyncio.get_running_loop()
            future: asyncio.Future[Any] = loop.create_future()
            context = contextvars.copy_context()

            def deliver(value: Any, error: BaseException | None) -> None:
                if future.done():
                    return
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(value)

            def work() -> None:
                value: Any = None
                error: BaseException | None = None
                try:
                    value = context.run(fn)
                except BaseException as exc:  # delivered to the awaiting step
                    error = exc
                finally:
                    with self._lock:
                        self.threads_running -= 1
                # a closed loop (RuntimeError) means nobody waits for the result any more
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(deliver, value, error)

            with self._lock:
                self.threads_running += 1
            threading.Thread(target=work, name=f"agents_durable tool ({agent_id})",
                             daemon=True).start()
            return await future

    def register(self, name: str, fn: Callable[..., Any], *,
                 description: str | None = None) -> ToolSpec:
        """Offer ``fn`` to plans as ``tools.<name>``; grant it per agent with ``tools=[...]``."""
        parts = name.split(".")
        if not name or not all(p.isidentifier() and not p.startswith("_") for p in parts):
            raise UsageError(f"tool name {name!r} must be dotted identifiers without leading "
                             "underscores, e.g. 'orders.get'")
        if not callable(fn):
            raise UsageError(f"tool {name!r} must be callable")
        for existing in self._tools:
            if existing.startswith(name + ".") or name.startswith(existing + "."):
                raise UsageError(f"tool {name!r} clashes with {existing!r}: a name cannot be "
                                 "both a tool and a namespace of tools")
        signature = _signature(fn)
        spec = ToolSpec(name=name, fn=fn,
                        description=description or inspect.getdoc(fn) or "",
                        signature=signature, is_async=inspect.iscoroutinefunction(fn))
        self._tools[name] = spec
        if self.listener is not None:
            self.listener()
        return spec

    def get(self, name: str) -> ToolSpec:
        try:
            return self._tools[name]
        except KeyError:
            raise ToolNotFound(f"no tool named {name!r} is registered") from None

    def names(self) -> list[str]:
        return sorted(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self._tools[name] for name in sorted(self._tools))


def _signature(fn: Callable[..., Any]) -> str:
    """``(order_id: int) -> dict`` as an agent should read it, even under PEP 563."""
    for eval_str in (True, False):  # eval_str fails on names only a TYPE_CHECKING import has
        try:
            return str(inspect.signature(fn, eval_str=eval_str))
        except (TypeError, ValueError, NameError, AttributeError, SyntaxError):
            continue
    return "(...)"


@functools.lru_cache(maxsize=1024)
def referenced_tools(source: str) -> frozenset[str]:
    """Every tool a plan's source names, as dotted paths (``tools.orders.get`` ->
    ``"orders.get"``; a namespace passed around, ``tools.orders``, stays ``"orders"``)."""
    from agents_durable.plans._validate_steps import dotted_name

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    paths: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = dotted_name(node)
            if dotted is not None and dotted.startswith("tools."):
                paths.add(dotted[len("tools."):])
    # keep the longest chains: ``tools.orders.get`` also walks past ``tools.orders``
    return frozenset(p for p in paths if not any(q.startswith(p + ".") for q in paths))


def missing_tools(needed: Collection[str], available: Collection[str]) -> list[str]:
    """The paths in ``needed`` that no tool in ``available`` serves, sorted."""
    return sorted(path for path in needed if not any(
        tool == path or tool.startswith(path + ".") or path.startswith(tool + ".")
        for tool in available))


def copy_json(value: Any, *, limit: int, what: str) -> Any:
    """A deep copy of JSON data, or ``ToolError`` naming what is wrong with it."""
    return json.loads(encode_json(value, limit=limit, what=what, not_json=ToolError,
                                  too_large=ToolError))


class ToolBinding:
    """What one activation may call: the agent's grants, the budget, and ``invoke``.

    ``invoke(name, args, kwargs)`` runs a granted tool where the host's tools live: in the
    engine process (``Engine.call_tool``), whether the activation runs inline or in a
    runner process, so a tool call is always grant-checked and executed by the engine.
    """

    __slots__ = ("calls", "grants", "invoke", "limit", "max_calls", "owner")

    def __init__(self, grants: Collection[str], *,
                 invoke: Callable[[str, list[Any], dict[str, Any]], Awaitable[Any]],
                 owner: Any, limit: int, max_calls: int) -> None:
        self.grants = frozenset(grants)
        self.invoke = invoke
        self.owner = owner
        self.limit = limit
        self.max_calls = max_calls
        self.calls = 0


async def run_tool(registry: ToolRegistry, name: str, args: list[Any],
                   kwargs: dict[str, Any], *, agent_id: str, limit: int) -> Any:
    """Run the host tool ``name`` (sync tools in a thread) and copy its result as JSON.

    A failure of the tool becomes ``ToolError`` (``NonRetryableError`` stays itself), so
    no host exception object reaches plan code.
    """
    spec = registry.get(name)
    try:
        if spec.is_async:
            result = await spec.fn(*args, **kwargs)
        else:
            result = await registry.run_in_thread(agent_id, lambda: spec.fn(*args, **kwargs))
            if inspect.isawaitable(result):
                result = await result
    except NonRetryableError as exc:
        raise NonRetryableError(f"tools.{name}: {exc}") from None
    except Exception as exc:
        raise ToolError(f"tools.{name} failed: {type(exc).__name__}: {exc}") from None
    return copy_json(result, limit=limit, what=f"the result of tools.{name}")


@facade(dynamic=True)
class Tools:
    """``tools`` in a plan: attribute access walks dotted names; the leaves are callable."""

    __slots__ = ("_binding", "_prefix")
    plan_name = "tools"

    def __init__(self, binding: ToolBinding, prefix: str = "") -> None:
        self._binding = binding
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        full = f"{self._prefix}{name}"
        binding = self._binding
        if full in binding.grants:
            return ToolFunction(binding, full)
        if any(g.startswith(full + ".") for g in binding.grants):
            return Tools(binding, full + ".")
        granted = ", ".join(sorted(binding.grants)) or "none"
        raise plan_error(f"tool {full!r} is not granted to this agent (granted: {granted})")

    def __repr__(self) -> str:
        return f"<tools {self._prefix.rstrip('.') or '*'}>"


@facade()
class ToolFunction:
    """A granted tool as plan code sees it: call it inside a step callback."""

    __slots__ = ("_binding", "_name")
    plan_name = "tool"

    def __init__(self, binding: ToolBinding, name: str) -> None:
        self._binding = binding
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> ToolCall:
        binding = self._binding
        context = current_step.get()
        if context is None or context.owner is not binding.owner:
            raise ToolUsageError(
                f"tools.{self._name}() was called outside a step callback. Tool calls have "
                "effects, and code outside a step runs again on every replay; wrap it: "
                f'await step.do("...", lambda: tools.{self._name}(...))')
        binding.owner.check_not_failed()  # no tool runs for an instance already failed
        binding.calls += 1
        if binding.calls > binding.max_calls:
            raise ToolUsageError(f"more than {binding.max_calls} tool calls in one activation")
        arguments = json.loads(encode_json(
            [list(args), kwargs], limit=binding.limit,
            what=f"the arguments of tools.{self._name}", not_json=ToolUsageError,
            too_large=ToolUsageError))
        return ToolCall(binding, self._name, arguments[0], arguments[1], context)

    def __repr__(self) -> str:
        return f"<tool {self._name}>"


@facade()
class ToolCall:
    """The awaitable a tool call returns. Await it inside the same step callback."""

    __slots__ = ("_args", "_awaited", "_binding", "_context", "_kwargs", "_name")
    plan_name = "tool call"

    def __init__(self, binding: ToolBinding, name: str, args: list[Any],
                 kwargs: dict[str, Any], context: Any) -> None:
        self._binding = binding
        self._name = name
        self._args = args
        self._kwargs = kwargs
        self._context = context
        self._awaited = False

    def __await__(self) -> Any:
        if current_step.get() is not self._context:
            raise ToolUsageError(f"the call to tools.{self._name}() must be awaited inside "
                                 "the step callback that made it")
        if self._awaited:  # each counted call runs the host tool at most once
            raise ToolUsageError(f"this call of tools.{self._name}() was already awaited; "
                                 "call the tool again for another call")
        self._awaited = True
        return self._run().__await__()

    async def _run(self) -> Any:
        binding = self._binding
        binding.owner.check_not_failed()
        return await binding.invoke(self._name, self._args, self._kwargs)
