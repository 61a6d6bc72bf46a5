"""Rules about where step calls flow: awaiting, callbacks, step functions, closures.

These rules look across statements, so they run over the whole tree at once instead of
node by node:

- ADP401: a step call that is never awaited (its value is discarded, or a variable that
  holds it is never awaited or passed to ``step.gather``);
- ADP407: a tool called in a helper function that ``run`` calls directly, outside any
  step (``run``'s own tool calls are checked node by node in ``_validate.py``);
- ADP409: a step made inside a step callback (steps cannot nest);
- ADP410: a step function (``@step.do``) awaited or gathered without calling it;
- ADP411 (warning): a step function that is never used;
- ADP412 (warning): a step callback that closes over a variable a loop rebinds before
  the callback runs;
- ADP413 (warning): a step function parameter the engine has nothing to pass to.

"Visible" is literal: a callback is a lambda or a function name passed to ``step.do``, or
a function decorated with ``@step.do``; a helper is a function the plan defines and calls
by name. Anything computed (a callback taken from a dict) is left to the runtime, which
refuses the same things with the same advice.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from agents_durable.plans._validate_steps import (
    LEAF_NODES,
    Finding,
    shorten,
    step_method,
    tool_path,
)

__all__ = ["check_flow"]

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_LOOPS = (ast.For, ast.While)
#: Methods that put a value into a container the plan keeps (and awaits later).
_COLLECTING = frozenset({"append", "appendleft", "extend", "insert", "add"})
_AWAITED = frozenset({"await", "gather"})
_CONTEXT_PARAMETER = "ctx"

Function = ast.FunctionDef | ast.AsyncFunctionDef


def check_flow(tree: ast.Module, step_name: str,
               run: ast.FunctionDef | ast.AsyncFunctionDef | None) -> list[Finding]:
    """Every ADP401, ADP407 (in helpers), ADP409-ADP413 finding in ``tree``."""
    return _Flow(tree, step_name, run).findings()


class _Flow:
    def __init__(self, tree: ast.Module, step_name: str,
                 run: ast.FunctionDef | ast.AsyncFunctionDef | None) -> None:
        self.tree, self.step_name, self.run = tree, step_name, run
        self.parents: dict[int, ast.AST] = {}
        #: id(node) -> the function whose body holds it (None: module level). Defaults
        #: and decorators belong to the scope around their function.
        self.scopes: dict[int, ast.AST | None] = {}
        self.defs: dict[tuple[str, int], list[Function]] = {}  # (name, id(scope)) -> defs
        self.step_functions: dict[str, list[Function]] = {}
        self.calls: list[ast.Call] = []
        self.loads: dict[str, list[ast.Name]] = {}
        # Every cost below is linear in the tree times its nesting depth (bounded by the
        # policy): the validator must stay fast on the largest plan it accepts.
        stack: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]
        while stack:
            node, scope = stack.pop()
            self.scopes[id(node)] = scope
            inner = {id(s) for s in node.body} if isinstance(node, _FUNCTIONS) else (
                {id(node.body)} if isinstance(node, ast.Lambda) else set())
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, LEAF_NODES):
                    self.parents[id(child)] = node
                    stack.append((child, node if id(child) in inner else scope))
            if isinstance(node, _FUNCTIONS):
                self.defs.setdefault((node.name, id(scope)), []).append(node)
                if any(self._is_step_decorator(d) for d in node.decorator_list):
                    self.step_functions.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Call):
                self.calls.append(node)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                self.loads.setdefault(node.id, []).append(node)
        self.calls.sort(key=_position)
        self._uses: dict[tuple[str, int], list[ast.Name]] = {}  # loads in a scope or below
        for name, loads in self.loads.items():
            for load in loads:
                for function in [*self._functions_around(load), None]:
                    self._uses.setdefault((name, id(function)), []).append(load)
        self._held: dict[tuple[str, int], list[Finding]] = {}
        self._rebound: dict[int, set[str]] = {}
        self._step_makers: dict[int, ast.Call] | None = None
        self.callbacks: dict[int, ast.AST] = {}  # id -> lambda or def run as a step
        for call in self.calls:
            if step_method(call, step_name) == "do" and not self._is_decorator(call):
                for callback in self._callbacks_of(call):
                    self.callbacks[id(callback)] = callback
        for functions in self.step_functions.values():
            for function in functions:
                self.callbacks[id(function)] = function

    # -- structure ------------------------------------------------------------------

    def _is_step_decorator(self, node: ast.expr) -> bool:
        return step_method(node, self.step_name) == "do"

    def _is_decorator(self, call: ast.Call) -> bool:
        parent = self.parents.get(id(call))
        return isinstance(parent, _FUNCTIONS) and any(d is call for d in parent.decorator_list)

    def _functions_around(self, node: ast.AST) -> Iterator[ast.AST]:
        """The functions whose body holds ``node``, nearest first."""
        scope = self.scopes.get(id(node))
        while scope is not None:
            yield scope
            scope = self.scopes.get(id(scope))

    def _scope(self, node: ast.AST) -> ast.AST | None:
        return self.scopes.get(id(node))

    def _in_callback(self, node: ast.AST) -> ast.AST | None:
        return next((f for f in self._functions_around(node) if id(f) in self.callbacks), None)

    def _resolve(self, name: str, at: ast.AST) -> list[Function]:
        """The plan's own ``def name`` visible at ``at``: in the nearest enclosing scope
        that defines it, or at top level."""
        for scope in [*self._functions_around(at), None]:
            found = self.defs.get((name, id(scope)))
            if found:
                return found
        return []

    def _callbacks_of(self, call: ast.Call) -> list[ast.AST]:
        fn: ast.expr | None = None
        if len(call.args) >= 2 and not any(isinstance(a, ast.Starred) for a in call.args[:2]):
            fn = call.args[1]
        else:
            fn = next((kw.value for kw in call.keywords if kw.arg == "fn"), None)
        if isinstance(fn, ast.Lambda):
            return [fn]
        if isinstance(fn, ast.Name):
            return list(self._resolve(fn.id, call))
        return []

    def _is_step_call(self, call: ast.Call) -> bool:
        if step_method(call, self.step_name) is not None:
            return not self._is_decorator(call)
        return isinstance(call.func, ast.Name) and call.func.id in self.step_functions \
            and bool(self._resolve(call.func.id, call))

    def _describe(self, call: ast.Call) -> str:
        method = step_method(call, self.step_name)
        if method is not None:
            return f"`{self.step_name}.{method}(...)`"
        return f"`{shorten(ast.unparse(call.func))}()`"

    def _consumer(self, node: ast.AST) -> tuple[str, ast.AST | None, bool]:
        """What happens to the value of ``node``: (kind, the node that takes it, whether it
        went into a container first). Kinds: await, gather, collect, helper, return,
        assign, discard, other."""
        child, parent = node, self.parents.get(id(node))
        contained = False
        while parent is not None:
            if (isinstance(parent, ast.IfExp) and child is not parent.test) or isinstance(
                    parent, ast.Starred):
                pass
            elif isinstance(parent, (ast.List, ast.Tuple, ast.Set)) or (
                    isinstance(parent, (ast.ListComp, ast.SetComp, ast.GeneratorExp))
                    and child is parent.elt) or (
                    isinstance(parent, ast.Dict) and any(v is child for v in parent.values)) or (
                    isinstance(parent, ast.DictComp) and child is parent.value):
                contained = True
            else:
                break
            child, parent = parent, self.parents.get(id(parent))
        if isinstance(parent, ast.Await):
            return "await", parent, contained
        if isinstance(parent, ast.Call) and any(a is child for a in parent.args):
            if step_method(parent, self.step_name) == "gather":
                return "gather", parent, contained
            func = parent.func
            if isinstance(func, ast.Attribute) and func.attr in _COLLECTING:
                return "collect", parent, contained
            if isinstance(func, ast.Name) and self._resolve(func.id, parent):
                return "helper", parent, contained
            return "other", parent, contained
        if isinstance(parent, ast.Return) or (
                isinstance(parent, ast.Lambda) and child is parent.body):
            return "return", parent, contained
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) \
                and child is parent.value:
            return "assign", parent, contained
        if isinstance(parent, ast.Expr):
            return "discard", parent, contained
        return "other", parent, contained

    # -- the rules --------------------------------------------------------------------

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for call in self.calls:
            if self._is_step_call(call):
                found.extend(self._awaited(call))
                found.extend(self._closures(call))
        found.extend(self._nested_steps())
        found.extend(self._step_functions())
        found.extend(self._helper_tools())
        return found

    def _awaited(self, call: ast.Call) -> list[Finding]:
        """ADP401: the step call's value reaches an await or ``step.gather``."""
        what = self._describe(call)
        kind, taker, contained = self._consumer(call)
        never = Finding(
            "ADP401", call, f"{what} is never awaited, so the step never runs.",
            f"Write `await {what[1:-1]}`, or pass the call to `await "
            f"{self.step_name}.gather(...)`.")
        if kind == "discard":
            return [never]
        if kind == "other":
            return [Finding(
                "ADP401", call, f"{what} is used here without being awaited; a step call "
                                "only runs when it is awaited.",
                f"Write `await {what[1:-1]}` and use its result, or pass the call to "
                f"`await {self.step_name}.gather(...)`.")]
        if kind != "assign" or taker is None:
            return []
        targets = _assigned_names(taker)
        scope = id(self._scope(taker))
        if not any(self._uses.get((name, scope)) for name in targets):
            return [never]
        if contained or len(targets) != 1:
            return []  # a list of step calls: how it is awaited is the plan's business
        return self._held_uses(targets[0], scope)

    def _held_uses(self, name: str, scope: int) -> list[Finding]:
        """ADP401 at the first use of variable ``name`` (holding a step call) that is not
        an await, a gather or a hand-over; the same for every such variable in a scope."""
        key = (name, scope)
        if key not in self._held:
            self._held[key] = []
            for use in self._uses.get(key, []):
                if self._consumer(use)[0] not in {"await", "gather", "collect", "helper",
                                                  "return", "assign"}:
                    self._held[key] = [Finding(
                        "ADP401", use, f"`{name}` holds a step call that has not run yet; "
                                       "it can only be awaited or passed to `step.gather`.",
                        f"Write `result = await {name}` (or `await {self.step_name}.gather("
                        f"{name}, ...)`) and use the result.")]
                    break
        return self._held[key]

    def _closures(self, call: ast.Call) -> list[Finding]:
        """ADP412: a callback sees a loop variable after the loop rebound it."""
        kind, _, _ = self._consumer(call)
        if kind == "await":
            return []  # the callback runs before the loop moves on
        if step_method(call, self.step_name) == "do":
            callbacks = self._callbacks_of(call)
        elif isinstance(call.func, ast.Name):
            callbacks = list(self._resolve(call.func.id, call))
        else:
            callbacks = []
        rebound = self._rebound_around(call)
        findings = []
        for callback in callbacks:
            names = sorted(_free_names(callback) & rebound)
            if not names:
                continue
            shown = ", ".join(f"`{n}`" for n in names)
            binding = ", ".join(f"{n}={n}" for n in names)
            fix = (f"`lambda {binding}: ...`" if isinstance(callback, ast.Lambda)
                   else f"`def {getattr(callback, 'name', 'callback')}({binding}): ...`")
            findings.append(Finding(
                "ADP412", callback,
                f"This step callback uses {shown}, which the loop around it rebinds before "
                "the step runs (the step call is not awaited right away), so every such "
                "step would see the last value.",
                f"Bind the current value as a default argument: {fix} (a callback whose "
                "first parameter has a default gets no step context).", "warning"))
        return findings

    def _rebound_around(self, node: ast.AST) -> set[str]:
        """Names that a loop or comprehension around ``node`` (inside its function)
        binds again on every iteration."""
        names: set[str] = set()
        child, parent = node, self.parents.get(id(node))
        while parent is not None and not isinstance(parent, _SCOPES):
            if isinstance(parent, (*_LOOPS, *_COMPREHENSIONS)) and not (
                    isinstance(parent, _LOOPS) and child in parent.orelse):
                if id(parent) not in self._rebound:
                    self._rebound[id(parent)] = _loop_names(parent)
                names |= self._rebound[id(parent)]
            child, parent = parent, self.parents.get(id(parent))
        return names

    def _makers(self) -> dict[int, ast.Call]:
        """id(def) -> a step call the function makes, directly or through helpers it
        calls by name (a fixpoint over the call graph, computed once)."""
        if self._step_makers is None:
            makers: dict[int, ast.Call] = {}
            callers: dict[int, list[int]] = {}
            functions = [f for group in self.defs.values() for f in group]
            for function in functions:
                direct: list[ast.Call] = []
                for node in _body_nodes(function):
                    if not isinstance(node, ast.Call):
                        continue
                    if self._is_step_call(node):
                        direct.append(node)
                    elif isinstance(node.func, ast.Name):
                        for helper in self._resolve(node.func.id, node):
                            if id(helper) not in self.callbacks:
                                callers.setdefault(id(helper), []).append(id(function))
                if direct:
                    makers[id(function)] = min(direct, key=_position)
            work = list(makers)
            while work:
                maker = work.pop()
                for caller in callers.get(maker, []):
                    if caller not in makers:
                        makers[caller] = makers[maker]
                        work.append(caller)
            self._step_makers = makers
        return self._step_makers

    def _nested_steps(self) -> list[Finding]:
        """ADP409: a step (or a helper that makes steps) called inside a step callback."""
        hint = ("Make the step from `run` (or a helper that `run` awaits), not inside "
                "another step's callback; return data from the callback instead.")
        findings = []
        for call in self.calls:
            callback = self._in_callback(call)
            if callback is None:
                continue
            where = ("a step function" if isinstance(callback, _FUNCTIONS)
                     and callback.name in self.step_functions else "a step callback")
            if self._is_step_call(call):
                findings.append(Finding(
                    "ADP409", call, f"{self._describe(call)} is called inside {where}; "
                                    "steps cannot be made inside a step.", hint))
                continue
            if not isinstance(call.func, ast.Name):
                continue
            for helper in self._resolve(call.func.id, call):
                if id(helper) in self.callbacks:
                    continue
                inner = self._makers().get(id(helper))
                if inner is not None:
                    findings.append(Finding(
                        "ADP409", call, f"`{helper.name}(...)` makes steps ("
                                        f"{self._describe(inner)} at line {inner.lineno}) "
                                        f"but is called inside {where}; steps cannot be "
                                        "made inside a step.", hint))
                    break
        return findings

    def _all_step_functions(self) -> Iterator[Function]:
        for functions in self.step_functions.values():
            yield from functions

    def _step_functions(self) -> list[Finding]:
        """ADP410, ADP411, ADP413 for functions decorated with ``@step.do``."""
        findings = []
        for name, functions in sorted(self.step_functions.items()):
            uses = [use for use in self.loads.get(name, [])
                    if any(f in functions for f in self._resolve(name, use))]
            for use in uses:
                kind, _, _ = self._consumer(use)
                parent = self.parents.get(id(use))
                called = isinstance(parent, ast.Call) and parent.func is use
                if kind in _AWAITED and not called:
                    findings.append(Finding(
                        "ADP410", use, f"`{name}` is a step function; awaiting it without "
                                       "calling it does not run the step.",
                        f"Call it: `await {name}()`."))
            if not uses:
                for function in functions:
                    findings.append(Finding(
                        "ADP411", function, f"The step function `{name}` is never called, "
                                            "so its step never runs.",
                        f"Call it where the step should run: `result = await {name}()`.",
                        "warning"))
        earlier: set[str] = set()
        for function in sorted(self._all_step_functions(), key=_position):
            findings.extend(self._step_parameters(function, earlier))
            earlier.add(function.name)
        return findings

    def _step_parameters(self, function: Function, earlier: set[str]) -> list[Finding]:
        args = function.args
        positional = [*args.posonlyargs, *args.args]
        required = positional[:len(positional) - len(args.defaults)] + [
            arg for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
            if default is None]
        return [Finding(
            "ADP413", arg, f"The step function `{function.name}` takes `{arg.arg}`, which "
                           "the engine cannot fill: it passes the step context to a "
                           f"parameter named `{_CONTEXT_PARAMETER}` and the result of an "
                           "earlier step function to a parameter of that function's name.",
            f"Rename the parameter to `{_CONTEXT_PARAMETER}` or to an earlier step "
            "function's name, or give it a default value.", "warning")
            for arg in required
            if arg.arg != _CONTEXT_PARAMETER and arg.arg not in earlier]

    def _helper_tools(self) -> list[Finding]:
        """ADP407 in helpers: ``run`` calls a helper directly and the helper calls a tool."""
        outside: dict[int, ast.Call] = {}  # id(def) -> a direct call made outside steps
        frontier = [self.run] if self.run is not None else []
        while frontier:
            function = frontier.pop()
            for node in _body_nodes(function):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                for helper in self._resolve(node.func.id, node):
                    if id(helper) not in outside and id(helper) not in self.callbacks \
                            and helper is not self.run:
                        outside[id(helper)] = node
                        frontier.append(helper)
        findings = []
        for call in self.calls:
            path = tool_path(call.func)
            scope = self._scope(call)
            if path is None or scope is None or id(scope) not in outside \
                    or self._in_callback(call) is not None:
                continue
            caller = outside[id(scope)]
            name = getattr(scope, "name", "helper")
            findings.append(Finding(
                "ADP407", call, f"`tools.{path}(...)` runs outside a step: `{name}` is "
                                f"called directly (line {caller.lineno}), not from a step "
                                "callback, so the tool would run again on every replay.",
                f'Wrap the tool call in a step inside `{name}`: `await {self.step_name}.do('
                f'"{path}", lambda: tools.{path}(...))`.'))
        return findings


# -- small helpers ----------------------------------------------------------------------


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _body_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """Every node in ``function``'s body, not descending into nested functions."""
    body = function.body if isinstance(function, _FUNCTIONS) else [
        getattr(function, "body", function)]
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES):
            continue
        stack.extend(child for child in ast.iter_child_nodes(node)
                     if not isinstance(child, LEAF_NODES))


def _loop_names(loop: ast.AST) -> set[str]:
    """Names a loop or comprehension binds again on every iteration."""
    if isinstance(loop, ast.For):
        return _stored_names([loop.target, *loop.body])
    if isinstance(loop, ast.While):
        return _stored_names(loop.body)
    generators = getattr(loop, "generators", [])
    return _stored_names([generator.target for generator in generators])


def _stored_names(nodes: list[ast.AST] | list[ast.stmt] | list[ast.expr]) -> set[str]:
    """Names bound in ``nodes`` (not inside nested functions)."""
    names: set[str] = set()
    stack: list[ast.AST] = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, _FUNCTIONS):
            names.add(node.name)
            continue
        elif isinstance(node, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return names


def _free_names(function: ast.AST) -> set[str]:
    """Names ``function`` (and the functions inside it) read but do not bind themselves."""
    if not isinstance(function, _SCOPES):
        return set()
    args = function.args
    own = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    own |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    body = function.body if isinstance(function.body, list) else [function.body]
    loads: set[str] = set()
    for node in _body_nodes(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loads.add(node.id)
        elif node is not function and isinstance(node, _SCOPES):
            loads |= _free_names(node)
    return loads - own - _stored_names(body)


def _assigned_names(node: ast.AST) -> list[str]:
    targets: list[ast.expr]
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)):
        targets = [node.target]
    else:
        return []
    names: list[str] = []
    for target in targets:
        for element in ast.walk(target):
            if isinstance(element, ast.Name):
                names.append(element.id)
    return names
