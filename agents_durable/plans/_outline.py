"""The static outline of a plan: every ``step.*`` call with its kind, name and line.

The outline is what status views and the agent see before anything runs: "load order"
(do, line 4), "let the courier work" (sleep, line 5), ... It is read from the source, so a
step whose name is computed (an f-string, a variable) appears with the label
``"dynamic"``; a step inside a loop appears once.
"""

from __future__ import annotations

import ast

from pydantic import BaseModel, ConfigDict

from agents_durable.plans._validate_steps import (
    find_run,
    literal_step_name,
    step_method,
    step_parameter_name,
)

__all__ = ["OutlineEntry", "extract_outline"]

_NAMED_KINDS = frozenset({"do", "sleep", "sleep_until", "wait_for_event", "run_plan"})


class OutlineEntry(BaseModel):
    """One step call in the plan's source: its kind (the step method), name and line."""

    model_config = ConfigDict(frozen=True)

    kind: str
    name: str | None = None
    line: int

    @property
    def label(self) -> str:
        """The literal step name, or ``"dynamic"`` when it is computed or absent."""
        return self.name if self.name is not None else "dynamic"


def extract_outline(tree: ast.Module) -> list[OutlineEntry]:
    """Every ``step.<method>(...)`` call in ``tree``, in source order.

    The step object is the second parameter of ``run`` (``step`` by default), wherever
    that name is used, so helpers that take the step object under the same name are
    included. ``@step.do("name")`` decorators count as ``do`` steps; ``@step.do()``
    takes the decorated function's name.
    """
    step_name = step_parameter_name(find_run(tree))
    found: list[tuple[int, int, OutlineEntry]] = []
    unnamed: dict[int, str] = {}  # id(decorator call) -> the function's name
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and not decorator.args and not any(
                        kw.arg in ("name", None) for kw in decorator.keywords):
                    unnamed[id(decorator)] = node.name
    for node in ast.walk(tree):
        kind = step_method(node, step_name)
        if kind is None or not isinstance(node, ast.Call):
            continue
        name = literal_step_name(node) if kind in _NAMED_KINDS else None
        if kind == "do" and id(node) in unnamed:
            name = unnamed[id(node)]
        found.append((node.lineno, node.col_offset,
                      OutlineEntry(kind=kind, name=name, line=node.lineno)))
    found.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in found]
