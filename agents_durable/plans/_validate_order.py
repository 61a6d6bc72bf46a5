"""ADP414: the order of steps must not come from iterating a set.

Iterating a set of strings visits them in an order that changes between processes (hash
randomisation), so steps made in such a loop are made in another order when the plan is
replayed by another worker process, and the replay diverges. ``sorted(...)`` fixes it.
"""

from __future__ import annotations

import ast

from agents_durable.plans._validate_steps import Finding

__all__ = ["check_set_order"]

_SET_CALLS = frozenset({"set", "frozenset"})
_COPIES = frozenset({"list", "tuple", "iter", "reversed", "enumerate"})


def check_set_order(tree: ast.Module, step_name: str | None) -> list[Finding]:
    """Loops and comprehensions over a set (or a copy of one) that make steps."""
    if step_name is None:
        return []
    set_names = _names_bound_to_sets(tree)
    findings: list[Finding] = []
    for node in ast.walk(tree):
        loops: list[tuple[ast.expr, list[ast.AST]]] = []
        if isinstance(node, (ast.For, ast.AsyncFor)):
            loops.append((node.iter, list(node.body)))
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            element: list[ast.AST] = ([node.key, node.value] if isinstance(node, ast.DictComp)
                                      else [node.elt])
            loops.extend((generator.iter, element) for generator in node.generators)
        for iterable, body in loops:
            if _is_set(iterable, set_names) and _makes_steps(body, step_name):
                findings.append(Finding(
                    "ADP414", iterable,
                    "Steps are made while iterating a set, whose order changes between "
                    "processes; a replay by another worker would make them in another order "
                    "and fail.",
                    "Iterate `sorted(...)` of the set instead.", "warning"))
    return findings


def _is_set(node: ast.expr, set_names: set[str]) -> bool:
    if isinstance(node, (ast.Set, ast.SetComp)):
        return True
    if isinstance(node, ast.Name):
        return node.id in set_names
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in _SET_CALLS:
            return True
        if node.func.id in _COPIES and node.args:
            return _is_set(node.args[0], set_names)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd,
                                                            ast.Sub, ast.BitXor)):
        return _is_set(node.left, set_names) or _is_set(node.right, set_names)
    return False


def _names_bound_to_sets(tree: ast.Module) -> set[str]:
    """Names assigned a set (or a copy of one) anywhere; a name is a name for this check."""
    names: set[str] = set()
    for _ in range(2):  # a second pass catches `B = list(A)` after `A = {...}`
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and _is_set(node.value, names):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _makes_steps(body: list[ast.AST], step_name: str) -> bool:
    for part in body:
        for node in ast.walk(part):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == step_name):
                return True
    return False
