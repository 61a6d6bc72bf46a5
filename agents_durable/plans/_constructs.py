"""Judgements about constructs that both lines of defence make: validator and compiler.

The validator (``_validate.py``) turns them into diagnostics with a fix; the restricted
compiler (``_transform.py``) refuses the same code again on its own, for a plan that
reaches it some other way. Keeping the rule in one place keeps the two lines agreeing.
"""

from __future__ import annotations

import ast

__all__ = ["MATCH_CLASSES", "finally_exits", "literal_pattern_value", "match_class_globals",
           "match_global"]

#: Builtin data types a class pattern may name, by the name plans use. Each of them matches
#: a single positional sub-pattern against the subject itself (PEP 634), so a pattern on
#: them never reads an attribute.
MATCH_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (bool, bytes, dict, float, frozenset, int, list, set, str, tuple)
}


def match_global(name: str) -> str:
    """The hidden global a class pattern on builtin ``name`` is compiled to."""
    return f"_match_{name}_"


def match_class_globals() -> dict[str, type]:
    """The hidden globals of compiled class patterns: ``{"_match_str_": str, ...}``."""
    return {match_global(name): cls for name, cls in MATCH_CLASSES.items()}


def finally_exits(finalbody: list[ast.stmt]) -> list[ast.stmt]:
    """``return``/``break``/``continue`` statements that would leave this ``finally``.

    Such a statement discards the exception in flight, the engine's own signals (a budget
    trip, a suspension) included; Python 3.14 deprecates it (PEP 765). Not counted:
    anything inside a function, lambda or class defined in the block, and a ``break`` or
    ``continue`` of a loop that lies entirely within the block. Iterative, so deep nesting
    cannot exhaust the stack.
    """
    found: list[ast.stmt] = []
    stack: list[tuple[ast.AST, bool]] = [(statement, False) for statement in finalbody]
    while stack:
        node, in_loop = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                             ast.ClassDef)):
            continue
        if isinstance(node, ast.Return) or (
                isinstance(node, (ast.Break, ast.Continue)) and not in_loop):
            found.append(node)
        loop = isinstance(node, (ast.For, ast.AsyncFor, ast.While))
        orelse = {id(statement) for statement in getattr(node, "orelse", ())} if loop else set()
        for child in ast.iter_child_nodes(node):
            # A loop's `else` block is outside the loop: `break` there leaves the finally.
            stack.append((child, in_loop or (loop and id(child) not in orelse)))
    found.sort(key=lambda statement: (statement.lineno, statement.col_offset))
    return found


def literal_pattern_value(node: ast.expr) -> bool:
    """Whether a value pattern (or a mapping pattern's key) is a literal, not a dotted name.

    A dotted name (``case math.pi``) is looked up by the interpreter without the attribute
    guard, so only literals (``"a"``, ``-1``, ``1+2j``, ``None``) are accepted.
    """
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return literal_pattern_value(node.left) and literal_pattern_value(node.right)
    return isinstance(node, ast.Constant)
