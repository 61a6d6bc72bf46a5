"""The per-node rules of plan validation: one iterative walk over the tree (names,
imports, constructs, steps, tools) that collects diagnostics, and the line/column
helpers the passes share. ``_validate`` runs it between the size checks and the final
compile.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from agents_durable.plans._constructs import MATCH_CLASSES, finally_exits, literal_pattern_value
from agents_durable.plans._diagnostics import Diagnostic, Severity
from agents_durable.plans._policy import HOST_EFFECT_MODULES, REPLACEMENTS, PlanPolicy
from agents_durable.plans._validate_flow import check_flow
from agents_durable.plans._validate_order import check_set_order
from agents_durable.plans._validate_steps import (
    LEAF_NODES,
    Finding,
    check_module,
    check_step_attribute,
    check_step_call,
    check_tool_call,
    check_tool_grant,
    dotted_name,
    find_run,
    listing,
    shorten,
    step_method,
    step_parameter_name,
)

__all__ = ["FILENAME", "NESTING_HINT", "SIZE_HINT", "Checker", "Lines", "at_start"]

FILENAME = "<plan>"
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_HOST_HINT = "ask the host for a tool that does this; plans cannot reach the host directly"
SIZE_HINT = ("Shorten the plan: keep data in the instance params and move repeated code "
             "into helper functions.")
NESTING_HINT = ("Flatten the code: split deeply nested expressions into several statements "
                "or helper functions.")
_MAX_FORMAT_NUMBER = 1000

_NO_EVAL = "Write the logic directly in the plan; plans cannot run code from strings."
_NO_INTROSPECTION = ("Refer to variables by name, and use a dict when you need lookups by a "
                     "computed key.")
_NO_DEBUGGER = "Remove the call; use `print(...)` to write to the instance log."
_NO_CLASSES = ("Use plain functions and dicts; classes and object machinery are not "
               "available in plans.")
_NO_BASE_EXCEPTION = ("Raise or catch `Exception` (or raise `NonRetryableError` to stop a "
                      "step's retries) instead.")
#: Builtins a plan may not name, with the fix for each.
_FORBIDDEN_BUILTINS: Mapping[str, str] = {
    "eval": _NO_EVAL, "exec": _NO_EVAL, "compile": _NO_EVAL,
    "__import__": "Use an `import` statement for one of the allowed modules.",
    "open": "Ask the host for a tool that reads or writes the data; plans cannot open files.",
    "input": "Read inputs from `event.payload`, or wait for them with "
             "`await step.wait_for_event(...)`.",
    "globals": _NO_INTROSPECTION, "locals": _NO_INTROSPECTION, "vars": _NO_INTROSPECTION,
    "dir": _NO_INTROSPECTION,
    "breakpoint": _NO_DEBUGGER, "help": _NO_DEBUGGER, "copyright": _NO_DEBUGGER,
    "credits": _NO_DEBUGGER, "license": _NO_DEBUGGER,
    "exit": "Return from `run` to finish, or raise `NonRetryableError` to fail.",
    "quit": "Return from `run` to finish, or raise `NonRetryableError` to fail.",
    "memoryview": "Use `bytes` or `str`; mutable buffers are not available in plans.",
    "bytearray": "Use `bytes` or `str`; mutable buffers are not available in plans.",
    "id": "Use a stable key such as a dict key or a list index; object identities are not "
          "available in plans.",
    "hash": "Use the value itself (or `json.dumps(value, sort_keys=True)`) as the key; "
            "string hashes change between runs.",
    "object": _NO_CLASSES, "super": _NO_CLASSES, "classmethod": _NO_CLASSES,
    "staticmethod": _NO_CLASSES, "property": _NO_CLASSES,
    "format": "Use an f-string with a literal format spec, such as f\"{total:>10.2f}\".",
    "aiter": "Use a plain `for` loop, and `await step.gather(...)` to run steps concurrently.",
    "anext": "Use a plain `for` loop, and `await step.gather(...)` to run steps concurrently.",
    "BaseException": _NO_BASE_EXCEPTION, "BaseExceptionGroup": _NO_BASE_EXCEPTION,
    "GeneratorExit": _NO_BASE_EXCEPTION, "KeyboardInterrupt": _NO_BASE_EXCEPTION,
    "SystemExit": _NO_BASE_EXCEPTION,
}
#: Refused even when the plan binds the name itself (RestrictedPython refuses them too).
_ALWAYS_FORBIDDEN = frozenset({"eval", "exec", "__import__", "breakpoint"})
_BASE_EXCEPTIONS = frozenset({"BaseException", "BaseExceptionGroup", "GeneratorExit",
                              "KeyboardInterrupt", "SystemExit"})
_ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "hasattr", "setattr", "delattr"})
#: Frame, code, traceback and coroutine internals (RestrictedPython's INSPECT_ATTRIBUTES
#: and a few more that walk the class hierarchy or re-attach tracebacks).
_INTROSPECTION = frozenset({
    "tb_frame", "tb_next", "f_back", "f_builtins", "f_code", "f_generator", "f_globals",
    "f_locals", "f_trace", "co_code", "gi_frame", "gi_code", "gi_yieldfrom", "cr_await",
    "cr_frame", "cr_code", "cr_origin", "ag_await", "ag_frame", "ag_code", "mro",
    "with_traceback",
})
_FORMAT_METHODS = frozenset({"format", "format_map"})
_CLOCK_METHODS = frozenset({"now", "today", "utcnow"})
_CLOCK_CLASSES = frozenset({"datetime", "date"})
_RESERVED_NAMES = frozenset({"print", "printed", "builtins"})
_NO_SHARED_STATE = ("Pass values in as arguments and return results; keep state in local "
                    "variables of `run`.")
_NO_CONTEXT_MANAGERS = "Call the functions directly; use `try`/`finally` for cleanup."
#: Constructs refused whatever their content: node type -> (code, message, hint).
_CONSTRUCTS: Mapping[str, tuple[str, str, str]] = {
    "ClassDef": ("ADP301", "Class definitions are not allowed in a plan (`class {name}`).",
                 "Use dicts for records and plain functions for behaviour."),
    "Yield": ("ADP302", "`yield` is not allowed in a plan; generators cannot be suspended "
                        "durably.", "Build a list and return it instead of yielding items."),
    "YieldFrom": ("ADP302", "`yield from` is not allowed in a plan; generators cannot be "
                            "suspended durably.",
                  "Build a list and return it instead of yielding items."),
    "Global": ("ADP303", "`global {names}` is not allowed in a plan.", _NO_SHARED_STATE),
    "TryStar": ("ADP305", "`except*` (exception groups) is not allowed in a plan.",
                "Use `try`/`except` with ordinary exception types."),
    "AsyncFor": ("ADP306", "`async for` is not allowed in a plan.",
                 "Use a plain `for` loop, and `await step.gather(...)` to run steps "
                 "concurrently."),
    "AsyncWith": ("ADP306", "`async with` is not allowed in a plan.", _NO_CONTEXT_MANAGERS),
    "AnnAssign": ("ADP309", "Annotated assignments (`name: type = value`) are refused by the "
                            "restricted compiler.",
                  "Drop the annotation and write `{target} = ...`."),
    "With": ("ADP310", "`with` statements are not allowed in a plan; no context managers "
                       "are available.", _NO_CONTEXT_MANAGERS),
    "TypeAlias": ("ADP311", "`type` alias statements are not supported in plans.",
                  "Remove the alias; plans are not type-checked."),
}



class _Scope(NamedTuple):
    function: ast.AST | None  # nearest enclosing def or lambda; None at module level
    comprehension: bool  # inside a comprehension's own scope, within that function
    outer: _Scope | None


class Checker:
    """Applies every per-node rule in one iterative walk; collects ``diagnostics``."""

    def __init__(self, tree: ast.Module, lines: Lines, policy: PlanPolicy,
                 tools: frozenset[str] | None) -> None:
        self.tree, self.lines, self.policy, self.tools = tree, lines, policy, tools
        self.diagnostics: list[Diagnostic] = []
        self.run = find_run(tree)
        self.step_name = step_parameter_name(self.run)
        self.parents: dict[int, ast.AST] = {}
        self.first_generators: set[int] = set()
        self.bound: set[str] = set()  # every name the plan binds somewhere
        self.modules: dict[str, str] = {}  # local name -> allowed module imported whole
        self.clock_classes: set[str] = set(_CLOCK_CLASSES)  # datetime/date, and aliases
        self._collect_names()

    def check(self) -> None:
        self._report_all(check_module(self.tree, self.run))
        stack: list[tuple[ast.AST, ast.AST | None, _Scope]] = [
            (self.tree, None, _Scope(None, False, None))]
        while stack:
            node, parent, scope = stack.pop()
            if parent is not None:
                self.parents[id(node)] = parent
            kind = type(node).__name__
            visit = getattr(self, f"_visit_{kind}", None)
            if visit is None and kind in _CONSTRUCTS:
                visit = self._visit_simple
            if visit is not None:
                visit(node, scope)
            children = [(child, node, child_scope)
                        for child, child_scope in self._children(node, scope)]
            stack.extend(reversed(children))
        self._report_all(check_flow(self.tree, self.step_name, self.run))
        self._report_all(check_set_order(self.tree, self.step_name))

    # -- plumbing -------------------------------------------------------------------

    def _collect_names(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                self.bound.add(node.id)
            elif isinstance(node, ast.arg):
                self.bound.add(node.arg)
            elif isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.ExceptHandler, ast.MatchAs,
                                   ast.MatchStar)):
                self.bound.add(node.name or "")
            elif isinstance(node, ast.MatchMapping):
                self.bound.add(node.rest or "")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.bound.add(local)
                    if alias.name in self.policy.modules:
                        self.modules[local] = alias.name
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    self.bound.add(alias.asname or alias.name)
                    if node.module == "datetime" and alias.name in _CLOCK_CLASSES:
                        self.clock_classes.add(alias.asname or alias.name)

    def _children(self, node: ast.AST, scope: _Scope) -> Iterator[tuple[ast.AST, _Scope]]:
        if isinstance(node, (*_FUNCTIONS, ast.Lambda)):
            inner = _Scope(node, False, scope)
            body = node.body if isinstance(node.body, list) else [node.body]
            body_ids = {id(statement) for statement in body}
            for child in ast.iter_child_nodes(node):
                yield child, (inner if id(child) in body_ids else scope)
            return
        if isinstance(node, _COMPREHENSIONS):
            self.first_generators.add(id(node.generators[0]))
            scope = _Scope(scope.function, True, scope)
        first = isinstance(node, ast.comprehension) and id(node) in self.first_generators
        for child in ast.iter_child_nodes(node):
            if isinstance(child, LEAF_NODES):
                continue
            outer = first and child is getattr(node, "iter", None) and scope.outer
            yield child, (scope.outer if outer and scope.outer else scope)

    def _report(self, code: str, node: ast.AST, message: str, hint: str,
                severity: Severity = "error") -> None:
        line, offset = self._location(node)
        self.diagnostics.append(Diagnostic(code=code, severity=severity, line=line,
                                           column=self.lines.column(line, offset),
                                           message=message, hint=hint))

    def _report_all(self, findings: list[Finding]) -> None:
        for finding in findings:
            self._report(*finding)

    def _location(self, node: ast.AST) -> tuple[int, int]:
        current: ast.AST | None = node
        while current is not None:
            if hasattr(current, "lineno"):
                return current.lineno, current.col_offset
            current = self.parents.get(id(current))
        return 1, 0

    def _is_call_target(self, node: ast.AST) -> bool:
        parent = self.parents.get(id(node))
        return isinstance(parent, ast.Call) and parent.func is node

    def _in_except_clause(self, node: ast.AST) -> bool:
        parent = self.parents.get(id(node))
        if isinstance(parent, ast.Tuple):
            node, parent = parent, self.parents.get(id(parent))
        return isinstance(parent, ast.ExceptHandler) and parent.type is node

    # -- imports (ADP201, ADP202) ---------------------------------------------------

    def _visit_Import(self, node: ast.Import, scope: _Scope) -> None:
        for alias in node.names:
            if self._module_allowed(alias, alias.name, f"import {alias.name}"):
                self._check_bound_name(alias, alias.asname or alias.name)

    def _visit_ImportFrom(self, node: ast.ImportFrom, scope: _Scope) -> None:
        module = "." * node.level + (node.module or "")
        first = node.names[0].name if node.names else ""
        statement = f"from {module} import {first}{', ...' if len(node.names) > 1 else ''}"
        if node.level:
            self._report("ADP201", node, f"`{statement}` is a relative import, which plans "
                                         "cannot use.",
                         "Define the helper in the plan itself; a plan is a single module.")
            return
        if not self._module_allowed(node, module, statement):
            return
        offered = self.policy.modules[module]
        for alias in node.names:
            if alias.name == "*" or alias.name not in offered:
                what = ("`*` imports are" if alias.name == "*"
                        else f"`{alias.name}` is")
                self._report("ADP202", alias,
                             f"{what} not offered by the plan's `{module}` module.",
                             f"Import only names it offers: {listing(offered)}.")
            else:
                self._check_bound_name(alias, alias.asname or alias.name)

    def _module_allowed(self, node: ast.AST, module: str, statement: str) -> bool:
        modules = self.policy.modules
        if module in modules:
            return True
        top = module.split(".")[0]
        if top in modules:
            self._report("ADP201", node,
                         f"`{statement}` is not allowed in a plan: `{module}` is a submodule.",
                         f"Import `{top}` itself and use the names it offers: "
                         f"{listing(modules[top])}.")
            return False
        advice = REPLACEMENTS.get(top) or _HOST_HINT
        if top not in HOST_EFFECT_MODULES and top not in REPLACEMENTS:
            advice = _HOST_HINT
        allowed = listing(modules) if modules else "none"
        self._report("ADP201", node, f"`{statement}` is not allowed in a plan.",
                     f"{advice[0].upper()}{advice[1:]} (allowed modules: {allowed}).")
        return False

    # -- names (ADP203-ADP206, ADP309) ----------------------------------------------

    def _check_bound_name(self, node: ast.AST, name: str) -> None:
        """A name the plan binds: parameter, def, import, except-as, assignment target."""
        if name.startswith("_") and name != "_":
            suggestion = name.strip("_") or "value"
            if hasattr(builtins, suggestion):
                suggestion = f"my_{suggestion}"
            self._report("ADP206", node, f"The name `{name}` starts with an underscore; "
                                         "such names are reserved for the sandbox.",
                         f"Rename it to a name without a leading underscore, such as "
                         f"`{suggestion}`.")
        elif name.endswith("__roles__"):
            self._report("ADP309", node, f"The name `{name}` ends with `__roles__`, which "
                                         "the restricted compiler refuses.",
                         "Rename it so that it does not end with `__roles__`.")
        elif name in _RESERVED_NAMES:
            self._report("ADP309", node, f"`{name}` is a reserved name in plans and cannot "
                                         "be assigned or redefined.",
                         f"Use another name than `{name}`.")

    def _visit_Name(self, node: ast.Name, scope: _Scope) -> None:
        name = node.id
        if name in _FORBIDDEN_BUILTINS and (name in _ALWAYS_FORBIDDEN
                                            or name not in self.bound):
            if not (name in _BASE_EXCEPTIONS and self._in_except_clause(node)):
                self._report("ADP203", node, f"`{name}` is not available in a plan.",
                             _FORBIDDEN_BUILTINS[name])
            return
        if not isinstance(node.ctx, ast.Load):
            self._check_bound_name(node, name)
        elif name in self.bound:
            return  # a bad name the plan binds is reported once, where it is bound
        elif name.startswith("_") or name == "builtins" or name.endswith("__roles__"):
            self._check_bound_name(node, name)
        elif not self._is_call_target(node):
            if name in _ATTRIBUTE_FUNCTIONS:
                self._report("ADP204", node, f"`{name}` may only be called directly, with a "
                                             "literal attribute name.",
                             f'Call it as `{name}(value, "name")`, or use a dict lookup.')
            elif name == "type":
                self._report("ADP205", node, "`type` may only be called directly, with one "
                                             "argument.",
                             "Call `type(value)` directly, or use `isinstance(value, ...)`.")

    def _visit_arg(self, node: ast.arg, scope: _Scope) -> None:
        self._check_bound_name(node, node.arg)

    def _visit_ExceptHandler(self, node: ast.ExceptHandler, scope: _Scope) -> None:
        if node.name:
            self._check_bound_name(node, node.name)

    def _visit_Nonlocal(self, node: ast.Nonlocal, scope: _Scope) -> None:
        for name in node.names:
            self._check_bound_name(node, name)

    # -- match patterns (ADP206, ADP313) --------------------------------------------

    def _visit_MatchAs(self, node: ast.MatchAs, scope: _Scope) -> None:
        if node.name:
            self._check_bound_name(node, node.name)

    def _visit_MatchStar(self, node: ast.MatchStar, scope: _Scope) -> None:
        if node.name:
            self._check_bound_name(node, node.name)

    def _visit_MatchValue(self, node: ast.MatchValue, scope: _Scope) -> None:
        if not literal_pattern_value(node.value):
            text = shorten(ast.unparse(node.value))
            self._report("ADP313", node, f"`case {text}:` compares with a dotted name, which "
                                         "plans cannot use in a pattern.",
                         f"Capture the value and compare in a guard: `case value if value "
                         f"== {text}:`, or write the literal value.")

    def _visit_MatchMapping(self, node: ast.MatchMapping, scope: _Scope) -> None:
        if node.rest:
            self._check_bound_name(node, node.rest)
        for key in node.keys:
            if not literal_pattern_value(key):
                self._report("ADP313", key, f"The mapping pattern key "
                                            f"`{shorten(ast.unparse(key))}` is a dotted name; "
                                            "plans can match only literal keys.",
                             'Write the key as a literal, such as `case {"type": kind}:`.')

    def _visit_MatchClass(self, node: ast.MatchClass, scope: _Scope) -> None:
        cls = node.cls
        text = f"case {shorten(ast.unparse(node), 50)}:"
        types = listing(MATCH_CLASSES)
        if not isinstance(cls, ast.Name) or cls.id not in MATCH_CLASSES \
                or cls.id in self.bound:
            name = shorten(ast.unparse(cls))
            why = (f"`{name}` is a name this plan assigns" if isinstance(cls, ast.Name)
                   and cls.id in MATCH_CLASSES else f"`{name}` is not a builtin data type")
            self._report("ADP313", node, f"`{text}` is a class pattern and {why}; plans can "
                                         f"match classes only of the types {types}.",
                         'Match the data instead, such as `case {"type": "point", "x": x}:` '
                         "for a dict, or test it with `isinstance(value, ...)` in an `if`.")
        elif node.kwd_attrs:
            self._report("ADP313", node, f"`{text}` matches attributes by keyword, which "
                                         "plans cannot do: the attributes would be read "
                                         "without the sandbox's checks.",
                         f"Capture the value with `case {cls.id}() as value:` and read what "
                         "you need in the case body, or match a dict by key.")
        elif len(node.patterns) > 1:
            self._report("ADP313", node, f"`{text}` has {len(node.patterns)} positional "
                                         f"sub-patterns; `{cls.id}(...)` takes at most one, "
                                         "which matches the value itself.",
                         f"Write `case {cls.id}(value):` or `case {cls.id}() as value:`.")

    def _visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef,
                           scope: _Scope) -> None:
        self._check_bound_name(node, node.name)
        for decorator in node.decorator_list:
            if step_method(decorator, self.step_name) != "do":
                self._report("ADP311", decorator,
                             f"The decorator `@{shorten(ast.unparse(decorator))}` is not "
                             "supported in plans.",
                             'Remove it; the only decorator a plan may use is '
                             '`@step.do("name")` (or `@step.do()`, named after the '
                             'function).')
        if getattr(node, "type_params", None):
            self._report("ADP311", node, "Type parameters are not supported in plans.",
                         "Remove the type parameters; plans are not type-checked.")

    _visit_AsyncFunctionDef = _visit_FunctionDef

    def _visit_Call(self, node: ast.Call, scope: _Scope) -> None:
        method = step_method(node, self.step_name)
        if method is not None:
            parent = self.parents.get(id(node))
            decorator = isinstance(parent, _FUNCTIONS) and any(
                d is node for d in parent.decorator_list)
            if decorator and method != "do":
                return  # ADP311 already says this decorator is not supported
            self._report_all(check_step_call(node, method, decorator=decorator))
            return
        func = node.func
        if isinstance(func, ast.Name) and func.id not in self.bound:
            if func.id in _ATTRIBUTE_FUNCTIONS:
                self._check_attribute_function(node, func.id)
            elif func.id == "type" and (len(node.args) != 1 or node.keywords
                                        or isinstance(node.args[0], ast.Starred)):
                self._report("ADP205", node, f"`type(...)` with {len(node.args)} arguments "
                                             "creates a class, which plans cannot do.",
                             "Call `type(value)` with one argument, or use `isinstance`.")
        if self.run is not None and scope.function is self.run:
            self._report_all(check_tool_call(node))

    def _check_attribute_function(self, node: ast.Call, function: str) -> None:
        attribute = node.args[1] if len(node.args) >= 2 else None
        if not (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)):
            self._report("ADP204", node, f"`{function}(...)` needs a literal attribute name.",
                         f'Write the attribute name as a string literal, such as '
                         f'`{function}(value, "status")`, or use a dict lookup `d[key]`.')
        elif _private_attribute(attribute.value):
            self._report("ADP204", node, f"`{function}(..., {attribute.value!r})` names an "
                                         "attribute that plans may not reach.",
                         "Use a public attribute name; underscore attributes, "
                         "`format` and interpreter internals are not available.")

    # -- attributes (ADP202, ADP203, ADP207, ADP208, ADP402, ADP406) ----------------

    def _visit_Attribute(self, node: ast.Attribute, scope: _Scope) -> None:
        attr, value = node.attr, node.value
        text = shorten(dotted_name(node) or f"(...).{attr}")
        if attr.startswith("_") or attr in _INTROSPECTION:
            self._report("ADP207", node, f"`{text}` reaches a private or internal attribute.",
                         "Use public attributes or dict keys; attributes that start with "
                         "an underscore and interpreter internals are not available.")
        elif attr.endswith("__roles__"):
            self._report("ADP309", node, f"The attribute `{attr}` ends with `__roles__`, "
                                         "which the restricted compiler refuses.",
                         "Use another attribute name.")
        elif isinstance(value, ast.Name) and value.id == self.step_name:
            self._report_all(check_step_attribute(node))
        elif attr in _FORMAT_METHODS:
            self._report("ADP203", node, f"`.{attr}(...)` is not available in a plan, "
                                         "because str.format can read attributes through "
                                         "its fields.",
                         'Use an f-string instead, such as f"{name}: {total}".')
        elif attr in _CLOCK_METHODS and self._is_clock_class(value):
            self._report("ADP208", node, f"`{text}()` reads the wall clock, which would "
                                         "differ when the plan replays.",
                         "Use `await step.now()`; it is recorded so replay sees the same "
                         "time.")
        elif isinstance(value, ast.Name) and value.id in self.modules:
            module = self.modules[value.id]
            if attr not in self.policy.modules[module]:
                self._report("ADP202", node,
                             f"`{text}` is not offered by the plan's `{module}` module.",
                             f"Use only names it offers: "
                             f"{listing(self.policy.modules[module])}.")
        if self.tools is not None and not isinstance(self.parents.get(id(node)),
                                                     ast.Attribute):
            self._report_all(check_tool_grant(node, self.tools))

    def _is_clock_class(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.clock_classes
        return (isinstance(node, ast.Attribute) and node.attr in _CLOCK_CLASSES
                and isinstance(node.value, ast.Name)
                and self.modules.get(node.value.id) == "datetime")

    # -- constructs (ADP301-ADP311) --------------------------------------------------

    def _visit_simple(self, node: ast.AST, scope: _Scope) -> None:
        code, message, hint = _CONSTRUCTS[type(node).__name__]
        if isinstance(node, ast.ClassDef):
            message = message.format(name=node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            message = message.format(names=", ".join(node.names))
        elif isinstance(node, ast.AnnAssign):
            hint = hint.format(target=shorten(ast.unparse(node.target)))
        self._report(code, node, message, hint)

    def _visit_Try(self, node: ast.Try, scope: _Scope) -> None:
        hint = ("Catch `Exception` (or a specific error such as `StepFailed` or "
                "`EventTimeout`) instead.")
        for handler in node.handlers:
            if handler.type is None:
                self._report("ADP304", handler, "A bare `except:` is not allowed in a plan; "
                                                "it would catch the engine's own signals.",
                             hint)
                continue
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) \
                else [handler.type]
            for caught in types:
                if isinstance(caught, ast.Name) and caught.id in _BASE_EXCEPTIONS:
                    self._report("ADP304", caught,
                                 f"`except {caught.id}` is not allowed in a plan; it would "
                                 "catch the engine's own signals.", hint)
        for statement in finally_exits(node.finalbody):
            word = type(statement).__name__.lower()
            self._report("ADP312", statement,
                         f"`{word}` inside a `finally` block discards the exception in "
                         "flight, the engine's own signals included (Python 3.14 deprecates "
                         "it, PEP 765).",
                         "Move the `" + word + "` after the `try` statement (set a variable "
                         "in `finally` and act on it afterwards); keep only cleanup in "
                         "`finally`.")

    def _visit_comprehension(self, node: ast.comprehension, scope: _Scope) -> None:
        if node.is_async:
            self._report("ADP306", node.target, "An async comprehension (`async for` "
                                                "inside brackets) is not allowed in a plan.",
                         "Build the list with a plain `for` loop, or use "
                         "`await step.gather(*[...])`.")

    def _visit_Await(self, node: ast.Await, scope: _Scope) -> None:
        # `[await step.do(...) for x in xs]` is an ordinary list built in order, one step
        # after another: allowed. A generator expression with `await` is an async
        # generator, which nothing in a plan can consume.
        if scope.comprehension and self._in_generator_expression(node):
            self._report("ADP306", node, "`await` inside a generator expression makes an "
                                         "async generator, which a plan cannot consume.",
                         "Use a list comprehension `[await ... for x in xs]` or a plain "
                         "`for` loop instead.")
        elif not isinstance(scope.function, ast.AsyncFunctionDef):
            where = {ast.FunctionDef: "a plain `def`", ast.Lambda: "a `lambda`"}.get(
                type(scope.function), "top-level code")
            self._report("ADP307", node, f"`await` is used in {where}; it is only allowed "
                                         "inside an `async def`.",
                         "Move the `await` into `run` or another `async def` function.")

    def _in_generator_expression(self, node: ast.AST) -> bool:
        current = self.parents.get(id(node))
        while current is not None and not isinstance(current, (*_FUNCTIONS, ast.Lambda)):
            if isinstance(current, ast.GeneratorExp):
                return True
            current = self.parents.get(id(current))
        return False

    def _visit_FormattedValue(self, node: ast.FormattedValue, scope: _Scope) -> None:
        spec = node.format_spec
        if not isinstance(spec, ast.JoinedStr):
            return
        if any(isinstance(part, ast.FormattedValue) for part in spec.values):
            self._report("ADP308", node, "This f-string computes its format spec "
                                         "(`{value:{spec}}`).",
                         'Write the format spec literally, such as f"{total:>10.2f}".')
            return
        text = "".join(part.value for part in spec.values
                       if isinstance(part, ast.Constant) and isinstance(part.value, str))
        if any(len(number.lstrip("0")) > 4 or int(number) > _MAX_FORMAT_NUMBER
               for number in re.findall(r"\d+", text)):
            self._report("ADP308", node, f"The f-string format spec `{shorten(text)}` asks "
                                         f"for a width or precision above "
                                         f"{_MAX_FORMAT_NUMBER}.",
                         f"Use a width and precision of at most {_MAX_FORMAT_NUMBER}.")

    def _visit_AugAssign(self, node: ast.AugAssign, scope: _Scope) -> None:
        if isinstance(node.target, ast.Attribute):
            self._report("ADP309", node, "Augmented assignment to an attribute "
                                         f"(`{shorten(ast.unparse(node.target))} "
                                         "op= ...`) is refused by the restricted compiler.",
                         "Keep the value in a variable or a dict key and update that "
                         'instead, such as `counts["done"] += 1`.')


class Lines:
    """Source lines as the tokenizer splits them, to turn byte offsets into columns."""

    def __init__(self, source: str) -> None:
        self.lines = re.split(r"\r\n|\r|\n", source)

    def column(self, line: int, byte_offset: int) -> int:
        """1-based character column of a 0-based UTF-8 byte offset on a 1-based line."""
        if not 1 <= line <= len(self.lines) or byte_offset <= 0:
            return max(byte_offset, 0) + 1
        encoded = self.lines[line - 1].encode("utf-8", "surrogatepass")
        return len(encoded[:byte_offset].decode("utf-8", "ignore")) + 1



def at_start(code: str, message: str, hint: str) -> Diagnostic:
    return Diagnostic(code=code, line=1, column=1, message=message, hint=hint)


def _private_attribute(name: str) -> bool:
    return (name.startswith("_") or name in _INTROSPECTION or name in _FORMAT_METHODS
            or name.endswith("__roles__"))
