"""Validation rules for the plan's shape, the step API and tools (ADP101-ADP104, ADP402-
ADP408; the rules that follow step calls across statements are in ``_validate_flow.py``).

These rules are static and only judge what is literally in the source: a step name written
as a string literal, a duration written as a literal, a ``retries`` dict written inline.
Anything computed (a variable, an f-string, a call) is left to the runtime checks, which
raise the same complaints with the same wording when the plan runs.

The step object is recognised by name: any ``Name`` equal to the second parameter of
``run`` (``step`` unless the plan chose another name). Helper functions that receive the
step object under the same name are therefore checked too.

Tools are recognised the same way, as attribute chains on the name ``tools``:
``tools.orders.get(...)`` is the tool ``"orders.get"``.

The functions here return :class:`Finding` tuples (code, node, message, hint); the caller
(``_validate.py``) turns them into located diagnostics. The outline reuses the helpers
that find ``run`` and read literal step names.
"""

from __future__ import annotations

import ast
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Literal, NamedTuple

__all__ = [
    "DEFAULT_STEP_NAME",
    "DURATION_GRAMMAR",
    "LEAF_NODES",
    "MAX_DURATION_SECONDS",
    "MAX_STEP_NAME_LENGTH",
    "STEP_METHODS",
    "Finding",
    "check_module",
    "check_step_attribute",
    "check_step_call",
    "check_tool_call",
    "check_tool_grant",
    "dotted_name",
    "duration_problem",
    "find_run",
    "listing",
    "literal_step_name",
    "shorten",
    "step_method",
    "step_parameter_name",
    "tool_path",
]

#: Every method of the step object, in the order the docs present them.
STEP_METHODS: tuple[str, ...] = (
    "do", "sleep", "sleep_until", "wait_for_event", "now", "random", "uuid", "gather",
    "run_plan",
)
#: AST nodes that are pure markers (Load/Store, operators); walks skip them.
LEAF_NODES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
DEFAULT_STEP_NAME = "step"
MAX_STEP_NAME_LENGTH = 256
MAX_DURATION_SECONDS = 365 * 86_400
DURATION_GRAMMAR = '"<number> <second|minute|hour|day|week|month|year>[s]"'

_DURATION_RE = re.compile(
    r"^\s*(\d+(\.\d+)?)\s*(second|minute|hour|day|week|month|year)s?\s*$",
    re.IGNORECASE,
)
_UNIT_SECONDS: Mapping[str, int] = {
    "second": 1, "minute": 60, "hour": 3_600, "day": 86_400, "week": 7 * 86_400,
    "month": 30 * 86_400, "year": 365 * 86_400,
}
_RETRY_KEYS = ("limit", "delay", "backoff")
_BACKOFFS = ("constant", "linear", "exponential")
_METHOD_LIST = ", ".join(f"step.{m}" for m in STEP_METHODS)


class Finding(NamedTuple):
    """One rule violation, located at ``node``; the validator turns it into a Diagnostic."""

    code: str
    node: ast.AST
    message: str
    hint: str
    severity: Literal["error", "warning"] = "error"


class _Signature(NamedTuple):
    positional: tuple[str, ...]  # positional-or-keyword parameters, in order
    required: tuple[str, ...]
    keyword_only: tuple[str, ...]
    usage: str


_SIGNATURES: Mapping[str, _Signature] = {
    "do": _Signature(("name", "fn"), ("name", "fn"), ("retries", "timeout"),
                     '`await step.do("name", callback, retries={...}, timeout="10 minutes")`'),
    "sleep": _Signature(("name", "duration"), ("name", "duration"), (),
                        '`await step.sleep("name", "2 days")`'),
    "sleep_until": _Signature(("name", "when"), ("name", "when"), (),
                              '`await step.sleep_until("name", when)`'),
    "wait_for_event": _Signature(
        ("name",), ("name", "type"), ("type", "timeout", "match"),
        '`await step.wait_for_event("name", type="event-type", timeout="1 day")`'),
    "now": _Signature((), (), (), "`await step.now()`"),
    "random": _Signature((), (), (), "`await step.random()`"),
    "uuid": _Signature((), (), (), "`await step.uuid()`"),
    "run_plan": _Signature(("name", "params"), ("name",), ("id", "on_parent_end"),
                           '`await step.run_plan("plan name", {"param": 1})`'),
}


# -- shared helpers (also used by the outline) ------------------------------------------


def find_run(tree: ast.Module) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The top-level ``run`` definition that Python would bind (the last one), if any."""
    found: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and statement.name == "run":
            found = statement
    return found


def step_parameter_name(run: ast.FunctionDef | ast.AsyncFunctionDef | None) -> str:
    """The name ``run`` gives the step object: its second positional parameter."""
    if run is None:
        return DEFAULT_STEP_NAME
    params = [*run.args.posonlyargs, *run.args.args]
    return params[1].arg if len(params) >= 2 else DEFAULT_STEP_NAME


def step_method(node: ast.AST | None, step_name: str) -> str | None:
    """``"do"`` for a call ``step.do(...)``; None if ``node`` is not a step method call."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id == step_name and func.attr in STEP_METHODS):
        return func.attr
    return None


def literal_step_name(call: ast.Call) -> str | None:
    """The step name when it is written as a string literal, else None (dynamic)."""
    name: ast.expr | None = None
    if call.args and not isinstance(call.args[0], ast.Starred):
        name = call.args[0]
    else:
        name = next((kw.value for kw in call.keywords if kw.arg == "name"), None)
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return name.value
    return None


def dotted_name(node: ast.AST) -> str | None:
    """``"a.b.c"`` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def listing(names: Iterable[str]) -> str:
    """Names sorted and comma-separated, for hints."""
    return ", ".join(sorted(names))


def shorten(text: str, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters, for quoting code in messages."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _literal_number(node: ast.AST) -> float | int | None:
    """A number written literally, possibly with a sign; None for anything else."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)):
        return sign * node.value
    return None


def _is_literal(node: ast.AST) -> bool:
    return isinstance(node, (ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict)) \
        or _literal_number(node) is not None


def _show(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(node, ast.Constant):
        return repr(node.value)
    number = _literal_number(node)
    if number is not None:
        return repr(number)
    return {ast.List: "a list", ast.Tuple: "a tuple", ast.Set: "a set",
            ast.Dict: "a dict"}.get(type(node), "this value")


# -- durations and names ----------------------------------------------------------------


def duration_problem(node: ast.AST) -> str | None:
    """Why a literal duration is invalid, or None when it is valid or not a literal."""
    number = _literal_number(node)
    if number is not None:
        if math.isnan(number) or number < 0:
            return "is negative" if number < 0 else "is not a number"
        return "is longer than 365 days" if number > MAX_DURATION_SECONDS else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        match = _DURATION_RE.match(node.value)
        if match is None:
            return "is not a duration"
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(3).lower()]
        return "is longer than 365 days" if seconds > MAX_DURATION_SECONDS else None
    if _is_literal(node):
        return "is not a duration"
    return None


def _duration_finding(node: ast.expr, what: str, *, allow_none: bool) -> list[Finding]:
    if allow_none and isinstance(node, ast.Constant) and node.value is None:
        return []
    problem = duration_problem(node)
    if problem is None:
        return []
    return [Finding(
        "ADP403", node, f"The {what} {_show(node)} {problem}.",
        f"Write a number of seconds or a string {DURATION_GRAMMAR} such as \"30 seconds\" "
        "or \"2 days\" (a month is 30 days, at most 365 days).")]


def _name_finding(node: ast.expr, method: str) -> list[Finding]:
    if not isinstance(node, ast.Constant):
        return []
    value = node.value
    if not isinstance(value, str):
        problem = f"is {_show(node)}, not a string"
    elif not value.strip():
        problem = "is empty"
    elif len(value) > MAX_STEP_NAME_LENGTH:
        problem = f"is {len(value)} characters long (at most {MAX_STEP_NAME_LENGTH})"
    elif any(unicodedata.category(char) == "Cc" for char in value):
        problem = "contains a control character (such as a newline or tab)"
    else:
        return []
    return [Finding(
        "ADP404", node, f"The name of this `step.{method}` call {problem}.",
        "Give the step a short descriptive name of 1 to 256 printable characters, "
        'such as "load order".')]


def _retries_findings(node: ast.expr) -> list[Finding]:
    hint = ('Pass `retries={"limit": 3, "delay": "30 seconds", "backoff": "exponential"}` '
            'with only these keys (limit >= 0; backoff "constant", "linear" or "exponential").')
    if isinstance(node, ast.Constant) and node.value is None:
        return []
    if not isinstance(node, ast.Dict):
        if _is_literal(node):
            return [Finding("ADP405", node,
                            f"`retries` must be a dict, not {_show(node)}.", hint)]
        return []
    findings: list[Finding] = []
    for key, value in zip(node.keys, node.values, strict=True):
        if key is None or not isinstance(key, ast.Constant):
            continue  # `**options` or a computed key: checked when the plan runs
        if key.value not in _RETRY_KEYS:
            findings.append(Finding(
                "ADP405", key, f"`retries` has an unknown option {_show(key)}.", hint))
        elif key.value == "limit":
            limit = _literal_number(value)
            if (isinstance(value, ast.Constant) or limit is not None) and not (
                    isinstance(limit, int) and limit >= 0):
                findings.append(Finding(
                    "ADP405", value,
                    f"`retries` limit {_show(value)} is not a whole number >= 0.", hint))
        elif key.value == "delay":
            findings.extend(_duration_finding(value, "retry delay", allow_none=False))
        elif _is_literal(value) and not (
                isinstance(value, ast.Constant) and value.value in _BACKOFFS):
            findings.append(Finding(
                "ADP405", value, f"`retries` backoff {_show(value)} is not a known backoff.",
                hint))
    return findings


# -- the rules --------------------------------------------------------------------------


def check_step_attribute(node: ast.Attribute) -> list[Finding]:
    """ADP402: ``step.<attr>`` where ``attr`` is not a step method."""
    if node.attr in STEP_METHODS or node.attr.startswith("_"):
        return []
    return [Finding("ADP402", node, f"`step.{node.attr}` is not a step method.",
                    f"Use one of {_METHOD_LIST}.")]


def _arity(code_node: ast.AST, method: str, problem: str) -> Finding:
    return Finding("ADP408", code_node, f"`step.{method}(...)` {problem}.",
                   f"Call it as {_SIGNATURES[method].usage}.")


def check_step_call(call: ast.Call, method: str, *, decorator: bool = False) -> list[Finding]:
    """ADP403, ADP404, ADP405, ADP408 for one ``step.<method>(...)`` call."""
    if method == "gather":
        return [Finding("ADP408", kw, "`step.gather(...)` takes no keyword arguments.",
                        "Pass the step calls as positional arguments: "
                        "`await step.gather(step.do(...), step.do(...))`.")
                for kw in call.keywords]
    signature = _SIGNATURES[method]
    findings: list[Finding] = []
    bound: dict[str, ast.expr] = {}
    starred = any(isinstance(arg, ast.Starred) for arg in call.args)
    double_starred = any(kw.arg is None for kw in call.keywords)
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            break
        if index >= len(signature.positional):
            params = ", ".join(signature.positional)
            takes = (f"takes at most {len(signature.positional)} positional arguments "
                     f"({params}) but got {len(call.args)}" if params else "takes no arguments")
            findings.append(_arity(arg, method, takes))
            break
        bound[signature.positional[index]] = arg
    for kw in call.keywords:
        if kw.arg is None:
            continue
        if kw.arg in bound:
            findings.append(_arity(kw, method, f"gets `{kw.arg}` twice"))
        elif kw.arg in signature.positional or kw.arg in signature.keyword_only:
            bound[kw.arg] = kw.value
        else:
            allowed = ", ".join(signature.keyword_only) or "none"
            findings.append(_arity(
                kw, method, f"has no keyword argument `{kw.arg}` (keywords: {allowed})"))
    if decorator and "fn" in bound:
        findings.append(_arity(bound["fn"], method,
                               'used as a decorator takes only the name: `@step.do("name")`'))
    if not (starred or double_starred):
        for required in signature.required:
            # As a decorator the name is optional: it defaults to the function's name.
            if required not in bound and not decorator:
                findings.append(_arity(call, method, f"is missing `{required}`"))

    if "name" in bound:
        findings.extend(_name_finding(bound["name"], method))
    if "duration" in bound:
        findings.extend(_duration_finding(bound["duration"], "sleep duration",
                                          allow_none=False))
    if "timeout" in bound:
        findings.extend(_duration_finding(bound["timeout"], "timeout", allow_none=True))
    if "retries" in bound:
        findings.extend(_retries_findings(bound["retries"]))
    event_type = bound.get("type")
    if isinstance(event_type, ast.Constant) and not (
            isinstance(event_type.value, str) and event_type.value):
        findings.append(_arity(event_type, method,
                               "needs `type` to be a non-empty string"))
    return findings


def _check_run(tree: ast.Module,
              run: ast.FunctionDef | ast.AsyncFunctionDef | None) -> list[Finding]:
    """ADP101-ADP103: ``run`` exists, is an ``async def``, and takes (event, step)."""
    if run is None:
        return [Finding("ADP101", tree, "The plan does not define `async def run(event, step)` "
                                        "at top level.",
                        "Add `async def run(event, step):` with the plan's steps in its body.")]
    findings: list[Finding] = []
    if isinstance(run, ast.FunctionDef):
        findings.append(Finding("ADP102", run, "`run` is defined with `def`; it must be an "
                                               "`async def`.",
                                "Write `async def run(event, step):`."))
    args = run.args
    if (len(args.posonlyargs) + len(args.args) != 2 or args.vararg or args.kwarg
            or args.kwonlyargs or args.defaults):
        findings.append(Finding("ADP103", run,
                                f"`run` takes ({shorten(ast.unparse(args))}); it must take "
                                "exactly two positional parameters without defaults.",
                                "Define it as `async def run(event, step):`."))
    return findings


def tool_path(node: ast.AST) -> str | None:
    """``"orders.get"`` for ``tools.orders.get``; None if ``node`` is not a tool path."""
    dotted = dotted_name(node)
    if dotted is None or not dotted.startswith("tools."):
        return None
    return dotted[len("tools."):]


def check_tool_grant(node: ast.Attribute, tools: frozenset[str]) -> list[Finding]:
    """ADP406: ``tools.a.b`` (a whole attribute chain) names a tool that is not granted.

    A prefix of a granted name (``tools.orders`` when ``orders.get`` is granted) is fine.
    """
    path = tool_path(node)
    if path is None or path in tools or any(t.startswith(f"{path}.") for t in tools):
        return []
    fix = (f"Use one of the granted tools ({listing(f'tools.{t}' for t in tools)}), "
           f"or ask the host to grant `{path}`." if tools
           else f"Ask the host to grant `{path}`; this agent has no tools yet.")
    return [Finding("ADP406", node, f"The tool `tools.{path}` is not granted to this agent.",
                    fix)]


def check_tool_call(call: ast.Call) -> list[Finding]:
    """ADP407 for a call made directly in ``run``: is it a tool call?

    A tool call belongs in a step callback (a lambda or a nested def passed to
    ``step.do``); the caller knows the call's nearest enclosing function is ``run``.
    """
    path = tool_path(call.func)
    if path is None:
        return []
    return [Finding("ADP407", call,
                    f"`tools.{path}(...)` is called directly in `run`; a tool call outside a "
                    "step would run again on every replay.",
                    f'Wrap it in a step: `await step.do("{path}", lambda: '
                    f'tools.{path}(...))`.')]


def check_module(tree: ast.Module,
                 run: ast.FunctionDef | ast.AsyncFunctionDef | None) -> list[Finding]:
    """ADP101-ADP104: the plan defines ``run`` properly, and nothing else runs at load.

    Top level may hold a docstring, imports, function definitions and assignments of
    values that are the same at every load (no step, tool, event or await).
    Statements another code refuses outright (``class``, ``with``, ...) are left to it.
    """
    findings = _check_run(tree, run)
    constants: set[str] = set()
    for index, statement in enumerate(tree.body):
        if (index == 0 and _is_docstring(statement)) or isinstance(
                statement, (ast.Import, ast.ImportFrom, *_FUNCTIONS, *_REFUSED_STATEMENTS)):
            continue
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
            word = _STATEMENT_WORDS.get(type(statement),
                                        f"a `{type(statement).__name__}` statement")
            findings.append(Finding(
                "ADP104", statement,
                f"Top-level code is not allowed in a plan (found {word}); the module may "
                "hold only a docstring, imports, function definitions and constant "
                "assignments.",
                "Move this code into `run` (or a helper function that `run` calls)."))
            continue
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = [_target_names(target) for target in targets]
        value = statement.value
        if all(names) and (value is None or _is_constant(value, constants)):
            constants.update(name for group in names for name in group)
            continue
        findings.append(Finding(
            "ADP104", statement,
            f"`{shorten(ast.unparse(targets[0]))} = ...` uses `step`, `event`, `tools`, "
            "`print` or `await` when the plan loads; top-level values must be the same at "
            "every load.",
            "Compute this value inside `run` (or a helper that `run` calls)."))
    return findings


#: Top-level statements that another code refuses wherever they are.
_REFUSED_STATEMENTS = (ast.ClassDef, ast.Global, ast.With, ast.AsyncWith, ast.AsyncFor,
                       ast.TryStar)
_STATEMENT_WORDS: Mapping[type[ast.AST], str] = {
    ast.If: "an `if` statement", ast.For: "a `for` loop", ast.While: "a `while` loop",
    ast.Try: "a `try` statement", ast.Expr: "an expression statement",
    ast.AugAssign: "an augmented assignment", ast.Assert: "an `assert` statement",
    ast.Delete: "a `del` statement", ast.Raise: "a `raise` statement",
    ast.Return: "a `return` statement", ast.Pass: "a `pass` statement",
    ast.Break: "a `break` statement", ast.Continue: "a `continue` statement",
    ast.Match: "a `match` statement", ast.Nonlocal: "a `nonlocal` statement",
}


def _is_docstring(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)) and all(
            isinstance(element, ast.Name) for element in target.elts):
        return [element.id for element in target.elts if isinstance(element, ast.Name)]
    return []


#: Names a top-level value may not read: they exist only inside ``run``, or have effects.
_RUN_ONLY_NAMES = frozenset({"step", "event", "tools", "print"})


def _is_constant(value: ast.expr, constants: set[str]) -> bool:
    """A value computed the same way at every load: no steps, tools, events or awaits.

    ``CENT = Decimal("0.01")`` or ``GRACE = timedelta(days=3)`` are what models write at
    the top of a module. The module body runs under the same guards and budget as ``run``
    at every activation, so a pure expression is as safe there as inside ``run``; what
    must stay out is anything with an effect or a value that differs between loads.
    """
    del constants  # earlier names are fine; an undefined one fails clearly at load
    for node in ast.walk(value):
        if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
        if isinstance(node, ast.Name) and node.id in _RUN_ONLY_NAMES:
            return False
    return True


