"""HTML views of plans, diagnostics, instance statuses and histories.

Each ``render_*`` function returns an :class:`HTMLView`: a ``str`` of HTML that Jupyter
displays richly (it has ``_repr_html_``) and that a web page can embed as is. The models
(``PlanVersion``, ``InstanceStatus``, ``History``, ``Diagnostic``) call these from their
own ``_repr_html_``, so in a notebook ``await inst.history()`` on the last line of a cell
shows the timeline.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markupsafe import Markup

from agents_durable.display._environment import render
from agents_durable.display._formatting import format_duration
from agents_durable.display._timeline import layout_timeline

if TYPE_CHECKING:
    from agents_durable.engine._models import History, InstanceStatus, PlanVersion, StepEntry
    from agents_durable.plans import Diagnostic, OutlineEntry

__all__ = [
    "HTMLView",
    "render_diagnostics",
    "render_history",
    "render_instance_status",
    "render_plan_source",
    "render_plan_version",
    "render_timeline_svg",
]


class HTMLView(str):
    """A rendered view: HTML text that notebooks display as HTML, not as a string."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"<HTMLView: {len(self):,} characters of HTML>"


@dataclass
class _SourceLine:
    number: int
    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    step: bool = False

    @property
    def css(self) -> str:
        """``step`` for lines with a step call, ``has-error``/``has-warning`` for findings."""
        severities = {d.severity for d in self.diagnostics}
        worst = "error" if "error" in severities else ("warning" if severities else "")
        return " ".join(filter(None, ["step" if self.step else "",
                                      f"has-{worst}" if worst else ""]))


def _took(step: StepEntry) -> str:
    if step.started is None or step.ended is None:
        return ""
    return format_duration((step.ended - step.started).total_seconds())


def _source_lines(source: str, diagnostics: Sequence[Diagnostic],
                  outline: Sequence[OutlineEntry]) -> tuple[list[_SourceLine],
                                                            list[Diagnostic]]:
    lines = [_SourceLine(n, text) for n, text in enumerate(source.splitlines(), 1)]
    step_lines = {entry.line for entry in outline}
    for line in lines:
        line.step = line.number in step_lines
    unplaced: list[Diagnostic] = []
    for diagnostic in diagnostics:
        if 1 <= diagnostic.line <= len(lines):
            lines[diagnostic.line - 1].diagnostics.append(diagnostic)
        else:
            unplaced.append(diagnostic)
    return lines, unplaced


def _outline_of(source: str) -> list[OutlineEntry]:
    from agents_durable.plans._outline import extract_outline

    try:
        return extract_outline(ast.parse(source))
    except Exception:  # an outline is a convenience: a plan it cannot read has none
        return []


def _plan_view(*, title: str, meta: list[tuple[str, str]], description: str, source: str,
               outline: Sequence[OutlineEntry],
               diagnostics: Sequence[Diagnostic] | None) -> HTMLView:
    lines, _ = _source_lines(source, diagnostics or (), outline)
    return HTMLView(render("plan.html.j2", title=title, meta=meta, description=description,
                           outline=list(outline), lines=lines,
                           diagnostics=None if diagnostics is None else list(diagnostics)))


def render_plan_version(version: PlanVersion,
                        diagnostics: Sequence[Diagnostic] | None = None) -> HTMLView:
    """A registered plan: name, version, hash, description, outline, numbered source.

    Pass ``diagnostics`` (e.g. warnings from validation) to mark them at their lines.
    """
    meta = [("agent", version.agent_id), ("version", str(version.version)),
            ("hash", version.hash), ("registered", version.created.isoformat())]
    return _plan_view(title=f"plan {version.name}", meta=meta,
                      description=version.description, source=version.source,
                      outline=version.outline, diagnostics=diagnostics)


def render_plan_source(source: str, diagnostics: Sequence[Diagnostic] | None = None, *,
                       title: str = "plan source") -> HTMLView:
    """A plan that may not be registered (or valid): numbered source with its diagnostics.

    ``diagnostics`` defaults to ``validate_plan(source)`` under the default policy; pass an
    agent's ``agent.validate_plan(source)`` to include its tool grants.
    """
    if diagnostics is None:
        from agents_durable.plans import validate_plan

        diagnostics = validate_plan(source)
    description = ""
    with contextlib.suppress(SyntaxError, ValueError, RecursionError, MemoryError):
        description = ast.get_docstring(ast.parse(source)) or ""
    return _plan_view(title=title, meta=[], description=description, source=source,
                      outline=_outline_of(source), diagnostics=diagnostics)


def render_diagnostics(diagnostics: Sequence[Diagnostic]) -> HTMLView:
    """A table of diagnostics: where, code, severity, message, fix."""
    diagnostics = list(diagnostics)
    errors = sum(1 for d in diagnostics if d.severity == "error")
    return HTMLView(render("diagnostics.html.j2", diagnostics=diagnostics, errors=errors,
                           warnings=len(diagnostics) - errors))


def render_instance_status(status: InstanceStatus) -> HTMLView:
    """A status badge, the plan version, output or error, and the steps so far."""
    return HTMLView(render("status.html.j2", status=status, took=_took))


def render_timeline_svg(history: History) -> HTMLView:
    """The timeline alone, as a standalone SVG document (see ``_timeline``)."""
    return HTMLView(render("timeline.svg.j2", t=layout_timeline(history)))


def render_history(history: History) -> HTMLView:
    """Status, the SVG timeline, a table of steps with attempts, events, printed lines."""
    svg = Markup(render_timeline_svg(history))  # rendered with autoescape: safe to embed
    return HTMLView(render("history.html.j2", status=history.status, svg=svg,
                           steps=history.steps, events=history.events, logs=history.logs,
                           audit=history.audit, discarded=history.discarded_steps,
                           took=_took))
