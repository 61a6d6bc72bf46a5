"""Rich views of plans and instances, for notebooks, web pages and terminals.

HTML views are jinja2 templates shipped with the package (``templates/*.j2``) rendered
with autoescape on: everything that comes from a plan or its users is untrusted text.
Importing this package registers these views for the models (``agents_durable._rich``;
the models never import their views, and ``import agents_durable`` imports this), so a
notebook shows a registered plan, an instance status or a history richly; call the
functions directly to embed the HTML elsewhere or to render a plan that is not
registered (``render_plan_source``). The ``*_text`` functions are what ``str()`` of a
model and the CLI print.
"""

from __future__ import annotations

from agents_durable.display._registry import _register_views
from agents_durable.display._text import (
    audit_text,
    diagnostics_text,
    error_text,
    history_text,
    instance_status_text,
    plan_version_text,
    safe_text,
    step_text,
)
from agents_durable.display._timeline import Timeline, layout_timeline
from agents_durable.display._views import (
    HTMLView,
    render_diagnostics,
    render_history,
    render_instance_status,
    render_plan_source,
    render_plan_version,
    render_timeline_svg,
)

_register_views()

__all__ = [
    "HTMLView",
    "Timeline",
    "audit_text",
    "diagnostics_text",
    "error_text",
    "history_text",
    "instance_status_text",
    "layout_timeline",
    "plan_version_text",
    "render_diagnostics",
    "render_history",
    "render_instance_status",
    "render_plan_source",
    "render_plan_version",
    "render_timeline_svg",
    "safe_text",
    "step_text",
]
