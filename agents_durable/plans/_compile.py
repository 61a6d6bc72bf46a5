"""Compile a validated plan under RestrictedPython, and instantiate it per activation.

``compile_plan`` never raises for bad input other than ``PlanRejected``: RestrictedPython
and CPython's compiler can themselves raise (deep nesting, odd constructs), and every such
failure becomes a diagnostic.
"""

from __future__ import annotations

import ast
import decimal
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted_exec

from agents_durable.errors import PlanRejected, PlanRuntimeError
from agents_durable.plans._budget import Budget
from agents_durable.plans._builtins import PrintCapture, bind, make_builtins, unbind
from agents_durable.plans._constructs import match_class_globals
from agents_durable.plans._diagnostics import Diagnostic
from agents_durable.plans._guards import Guards
from agents_durable.plans._modules import decimal_context, make_importer
from agents_durable.plans._outline import OutlineEntry, extract_outline
from agents_durable.plans._policy import PlanPolicy
from agents_durable.plans._sizes import rendered_size
from agents_durable.plans._transform import PlanTransformer
from agents_durable.plans._validate import parse_and_validate

__all__ = ["CompiledPlan", "compile_plan", "content_hash", "instantiate"]

_DEFAULT_POLICY = PlanPolicy()
_LINE = re.compile(r"^Line (\d+): (.*)$", re.S)


@dataclass(frozen=True, slots=True)
class CompiledPlan:
    """A plan that passed validation and compiled: ready to instantiate per activation."""

    hash: str
    source: str
    code: CodeType
    policy: PlanPolicy
    description: str
    outline: tuple[OutlineEntry, ...]


def content_hash(source: str, policy: PlanPolicy | None = None) -> str:
    """sha256 over the source and the policy fingerprint: what pins an instance's code."""
    policy = policy or _DEFAULT_POLICY
    digest = hashlib.sha256()
    digest.update(source.encode("utf-8", "surrogatepass"))
    digest.update(b"\x00policy\x00")
    digest.update(policy.fingerprint().encode())
    return digest.hexdigest()


_CACHE: OrderedDict[str, CompiledPlan] = OrderedDict()
_CACHE_SIZE = 1024


def compile_plan(source: str, policy: PlanPolicy | None = None, *,
                 tools: Collection[str] | None = None,
                 cache_as: str | None = None) -> CompiledPlan:
    """Validate and compile ``source``; raise ``PlanRejected`` with diagnostics if it fails.

    Compiled plans are cached by content hash, so loading a known plan costs a dict lookup.
    ``cache_as`` also caches the result under a stored hash (a version registered by an
    older release whose policy fingerprint differed).
    """
    policy = policy or _DEFAULT_POLICY
    key = content_hash(source, policy)
    if cache_as is not None and cache_as != key:
        plan = compile_plan(source, policy, tools=tools)
        _CACHE[cache_as] = plan
        return plan
    cached = _CACHE.get(key)
    if cached is not None and tools is None:
        _CACHE.move_to_end(key)
        return cached
    tree, diagnostics = parse_and_validate(source, policy, tools=tools)
    if tree is None or any(d.severity == "error" for d in diagnostics):
        raise PlanRejected(diagnostics)
    if cached is not None:
        return cached
    description = ast.get_docstring(tree) or ""
    outline = tuple(extract_outline(tree))
    code = _restricted_compile(tree, key)
    plan = CompiledPlan(hash=key, source=source, code=code, policy=policy,
                        description=description.strip(), outline=outline)
    _CACHE[key] = plan
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return plan


def cached_plan(plan_hash: str) -> CompiledPlan | None:
    """The compiled plan for ``plan_hash`` if this process compiled it recently."""
    return _CACHE.get(plan_hash)


def _restricted_compile(tree: ast.Module, key: str) -> CodeType:
    try:
        result = compile_restricted_exec(tree, filename=f"<plan {key[:12]}>",
                                         policy=PlanTransformer)
    except (RecursionError, MemoryError):
        raise PlanRejected([Diagnostic(
            code="ADP501", line=1, column=0,
            message="The plan is too deeply nested to compile.",
            hint="Split long expressions into several statements.")]) from None
    except Exception as exc:  # the compiler must never take the engine down
        raise PlanRejected([Diagnostic(
            code="ADP309", line=getattr(exc, "lineno", None) or 1, column=0,
            message=f"The restricted compiler refused the plan: {exc}.",
            hint="Rewrite the construct using plain statements.")]) from None
    if result.errors or result.code is None:
        diagnostics = []
        for error in result.errors or ["Line 1: compilation failed"]:
            match = _LINE.match(error)
            line = int(match.group(1)) if match and match.group(1).isdigit() else 1
            message = match.group(2) if match else error
            diagnostics.append(Diagnostic(
                code="ADP309", line=line, column=0,
                message=f"The restricted compiler refused this: {message}",
                hint="Rewrite this construct; see the plan language rules."))
        raise PlanRejected(diagnostics)
    return result.code


def instantiate(plan: CompiledPlan, *, budget: Budget, printer: PrintCapture,
                extra: dict[str, Any]) -> PlanEntry:
    """Run the plan's module body in fresh globals and return its ``run`` function.

    Every activation gets new globals, a new builtins dict and new module facades: nothing
    a plan does in one activation is visible in the next, or to another agent. The builtin
    functions themselves are shared and stateless; they serve the activation ``bind``
    named for the running task, around the module body here and around ``run`` (see
    ``_builtins`` for why plan code cannot reach anything shared). The decimal context is
    set for the calling task only (``decimal`` keeps it in a context variable, too).
    The returned ``run`` measures the plan's output and any exception it raises before the
    engine turns them into JSON or text: an aliased structure (``a = [a, a]`` forty times)
    is small in memory but would take the engine hours to render. Call its ``release()``
    once the activation is over.
    """
    guards = Guards(budget, plan.policy)
    builtins = make_builtins(guards)
    builtins["__import__"] = make_importer(guards, plan.policy)
    namespace = guards.namespace()
    namespace.update(_MATCH_GLOBALS)
    namespace.update(extra)
    namespace["__builtins__"] = builtins
    namespace["__name__"] = "plan"
    decimal.setcontext(decimal_context(guards))
    token = bind(guards, printer)
    try:
        exec(plan.code, namespace)
    finally:
        unbind(token)
    run = namespace.get("run")
    if run is None:  # validation guarantees it; a corrupt cache must still not crash
        raise PlanRejected([Diagnostic(code="ADP101", line=1, column=0,
                                       message="The plan does not define `run`.",
                                       hint="Define `async def run(event, step):`.")])
    return PlanEntry(_measured(run, guards, printer), namespace)


class PlanEntry:
    """The plan's ``run``, measured (see ``instantiate``), and the module it lives in."""

    __slots__ = ("_module", "_run")

    def __init__(self, run: Callable[..., Any], module: dict[str, Any]) -> None:
        self._run = run
        self._module = module

    def __call__(self, event: Any, step: Any) -> Any:
        return self._run(event, step)

    def release(self) -> None:
        """Drop the module's globals. Its functions refer to them and they to the
        functions, a cycle only the garbage collector would free, after a full scan of
        the heap: a wake-up herd of thousands of activations paid for that scan again and
        again. Nothing calls into the module after its activation has ended."""
        self._module.clear()


#: The hidden globals of class patterns (names to builtin types), copied into each plan.
_MATCH_GLOBALS = match_class_globals()


def _measured(run: Callable[..., Any], guards: Guards,
              printer: PrintCapture) -> Callable[..., Any]:
    async def measured_run(event: Any, step: Any) -> Any:
        token = bind(guards, printer)  # in this task; gather branches inherit it
        try:
            try:
                output = await run(event, step)
            except Exception as error:
                if rendered_size(error, guards.max_str) > guards.max_str:
                    raise PlanRuntimeError(f"the plan raised {type(error).__name__} with "
                                           "arguments too large to report") from None
                raise
            guards.render(output)
        finally:
            unbind(token)
        return output

    return measured_run
