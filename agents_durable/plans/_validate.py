"""Static validation of plan source: diagnostics an LLM can act on, before compiling.

:func:`parse_and_validate` parses the source once and hands the tree to the compiler;
:func:`validate_plan` returns only the diagnostics. Neither ever raises: any input string,
however hostile (null bytes, a million nested brackets, 10 MB of text), ends as a list of
:class:`~agents_durable.plans._diagnostics.Diagnostic`.

The passes, cheapest first, each stopping the ones after it when it fails:

1. size of the source in bytes (ADP501);
2. ``ast.parse`` (ADP100; parser recursion and memory errors are ADP501);
3. node count and nesting depth, computed iteratively (ADP501), so every later pass may
   recurse as deep as ``policy.max_nesting`` and no deeper;
4. the module's shape (ADP101-ADP104) and one iterative walk over every node that applies
   the name, import, construct, step and tool rules (ADP2xx-ADP4xx; the walk lives in
   ``_validate_rules.py``, the step rules in ``_validate_steps.py``), then the rules
   about where step calls flow, which look across statements (``_validate_flow.py``:
   awaiting, callbacks, step functions);
5. when nothing else failed, a plain ``compile`` of the tree, for the few errors CPython
   reports only at compile time (``break`` outside a loop, a repeated parameter name).

Python's own warnings (an invalid escape sequence, ``is`` with a literal) are reported as
ADP100 diagnostics of severity ``warning`` instead of reaching the host's warning filters.
Output is sorted by (line, column, code), deduplicated, and worded deterministically;
columns are 1-based and count characters.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Collection

from agents_durable.plans._diagnostics import Diagnostic
from agents_durable.plans._policy import PlanPolicy
from agents_durable.plans._validate_rules import (
    FILENAME,
    NESTING_HINT,
    SIZE_HINT,
    Checker,
    Lines,
    at_start,
)
from agents_durable.plans._validate_steps import LEAF_NODES

__all__ = ["parse_and_validate", "validate_plan"]

LIMIT_ERRORS = ("too many nested parentheses", "too many levels of indentation",
                "too many statically nested blocks", "too complex")


def validate_plan(source: str, policy: PlanPolicy | None = None, *,
                  tools: Collection[str] | None = None) -> list[Diagnostic]:
    """Every diagnostic for ``source`` under ``policy``, sorted; empty means valid.

    ``tools`` is the set of dotted tool names granted to the agent (``{"orders.get"}``);
    None means the grants are unknown and ADP406 is skipped. Never raises.
    """
    return parse_and_validate(source, policy, tools=tools)[1]


def parse_and_validate(
    source: str, policy: PlanPolicy | None = None, *, tools: Collection[str] | None = None,
) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse and validate ``source``: the tree (for the compiler) and the diagnostics.

    The tree is None when the source could not be parsed or exceeds the policy's size
    limits; otherwise it is returned even when there are errors, and the caller must not
    compile it unless no diagnostic has severity ``error``. Never raises.
    """
    try:
        granted = None if tools is None else (
            frozenset({tools}) if isinstance(tools, str) else frozenset(map(str, tools)))
        tree, diagnostics = _validate(source, policy or PlanPolicy(), granted)
    except (RecursionError, MemoryError):
        tree, diagnostics = None, [at_start("ADP501", "The plan is nested too deeply to "
                                             "analyse.", NESTING_HINT)]
    except Exception as exc:
        tree, diagnostics = None, [at_start(
            "ADP309", f"The validator could not analyse this plan ({type(exc).__name__}).",
            "Simplify the plan to ordinary statements and expressions.")]
    unique = {(d.line, d.column, d.code, d.severity, d.message, d.hint): d
              for d in diagnostics}
    return tree, [unique[key] for key in sorted(unique)]


# -- passes -----------------------------------------------------------------------------


def _validate(source: str, policy: PlanPolicy, tools: frozenset[str] | None,
              ) -> tuple[ast.Module | None, list[Diagnostic]]:
    if not isinstance(source, str):
        return None, [at_start("ADP100", "The plan source is not text.",
                                "Pass the plan's Python source as a string.")]
    source = source.removeprefix("\ufeff")  # a byte-order mark from a file read as text
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > policy.max_source_bytes:
        return None, [at_start(
            "ADP501", f"The plan is {size} bytes long; the limit is "
                      f"{policy.max_source_bytes} bytes.", SIZE_HINT)]
    lines = Lines(source)
    tree, diagnostics = _parse(source, lines)
    if tree is None:
        return None, diagnostics
    too_big = _check_limits(tree, policy, lines)
    if too_big is not None:
        return None, [*diagnostics, too_big]
    checker = Checker(tree, lines, policy, tools)
    checker.check()
    diagnostics.extend(checker.diagnostics)
    if not any(d.severity == "error" for d in diagnostics):
        diagnostics.extend(_compile_check(tree, source, lines))
    return tree, diagnostics


def _parse(source: str, lines: Lines) -> tuple[ast.Module | None, list[Diagnostic]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            tree: ast.Module | None = ast.parse(source, filename=FILENAME)
            failure = None
        except SyntaxError as exc:
            tree, failure = None, _syntax_error(exc, source, lines, compiled=False)
        except (RecursionError, MemoryError):
            tree, failure = None, at_start(
                "ADP501", "The plan is nested too deeply for the parser.", NESTING_HINT)
        except ValueError:  # null bytes, lone surrogates
            tree, failure = None, _bad_character(source)
    diagnostics = _python_warnings(caught)
    if failure is not None:
        diagnostics.append(failure)
    return tree, diagnostics


def _compile_check(tree: ast.Module, source: str, lines: Lines) -> list[Diagnostic]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            compile(tree, FILENAME, "exec", dont_inherit=True)
            failure = None
        except SyntaxError as exc:
            failure = _syntax_error(exc, source, lines, compiled=True)
        except (RecursionError, MemoryError):
            failure = at_start("ADP501", "The plan is nested too deeply to compile.",
                                NESTING_HINT)
    diagnostics = _python_warnings(caught)
    if failure is not None:
        diagnostics.append(failure)
    return diagnostics


def _check_limits(tree: ast.Module, policy: PlanPolicy, lines: Lines) -> Diagnostic | None:
    """ADP501 for too many nodes or too deep nesting, without recursion."""
    count = 0
    stack: list[tuple[ast.AST, int, int, int]] = [(tree, 0, 1, 0)]
    while stack:
        node, depth, line, offset = stack.pop()
        line, offset = getattr(node, "lineno", line), getattr(node, "col_offset", offset)
        count += 1
        if count > policy.max_ast_nodes:
            return at_start("ADP501", f"The plan has more than {policy.max_ast_nodes} "
                                       "syntax nodes.", SIZE_HINT)
        if depth > policy.max_nesting:
            return Diagnostic(code="ADP501", line=line, column=lines.column(line, offset),
                              message=f"The code here is nested more than "
                                      f"{policy.max_nesting} levels deep.",
                              hint=NESTING_HINT)
        stack.extend((child, depth + 1, line, offset) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, LEAF_NODES))
    return None


# -- small helpers ----------------------------------------------------------------------


def _syntax_error(exc: SyntaxError, source: str, lines: Lines, *,
                  compiled: bool) -> Diagnostic:
    text = str(exc.msg or "invalid syntax").rstrip(".")
    if "null bytes" in text:
        return _bad_character(source)
    line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else 1
    offset = exc.offset if isinstance(exc.offset, int) and exc.offset > 0 else 1
    # The parser reports character offsets; the compiler reports the node's byte offset.
    column = lines.column(line, offset - 1) if compiled else offset
    if text.startswith("Exceeds the limit"):
        return Diagnostic(code="ADP501", line=line, column=column,
                          message="A number here has more than 4300 digits.",
                          hint="Use a shorter number, or pass big values in the params.")
    if any(marker in text for marker in LIMIT_ERRORS):
        return Diagnostic(code="ADP501", line=line, column=column,
                          message=f"The code here is nested too deeply ({text}).",
                          hint=NESTING_HINT)
    return Diagnostic(code="ADP100", line=line, column=column, message=f"Syntax error: {text}.",
                      hint=f"Fix the syntax at line {line}, column {column}; a plan is a "
                           "Python 3.11 module.")


def _bad_character(source: str) -> Diagnostic:
    index = source.find("\x00")
    what = "a null byte"
    if index < 0:
        index = next((i for i, char in enumerate(source) if "\ud800" <= char <= "\udfff"), 0)
        what = "a character that is not valid Unicode (a lone surrogate)"
    before = re.split(r"\r\n|\r|\n", source[:index])
    return Diagnostic(code="ADP100", line=len(before), column=len(before[-1]) + 1,
                      message=f"The plan contains {what}.",
                      hint="Remove the character; a plan is plain UTF-8 text.")


def _python_warnings(caught: list[warnings.WarningMessage]) -> list[Diagnostic]:
    diagnostics = []
    for warning in caught:
        text = str(warning.message)
        hint = ('Use a raw string (r"...") or double the backslash.'
                if "escape sequence" in text
                else "Rewrite the code so that Python no longer warns about it.")
        line = warning.lineno if isinstance(warning.lineno, int) and warning.lineno > 0 else 1
        diagnostics.append(Diagnostic(code="ADP100", severity="warning", line=line, column=1,
                                      message=f"Python warns: {text}.", hint=hint))
    return diagnostics


