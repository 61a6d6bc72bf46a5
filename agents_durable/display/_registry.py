"""Registers the views for the models they show (see ``agents_durable._rich``)."""

from __future__ import annotations

from agents_durable._rich import register_view

__all__: list[str] = []


def _register_views() -> None:
    from agents_durable.display._text import (
        history_text,
        instance_status_text,
        plan_version_text,
    )
    from agents_durable.display._views import (
        render_diagnostics,
        render_history,
        render_instance_status,
        render_plan_version,
    )
    from agents_durable.engine._models import History, InstanceStatus, PlanVersion
    from agents_durable.plans import Diagnostic

    register_view(PlanVersion, html=render_plan_version, text=plan_version_text)
    register_view(InstanceStatus, html=render_instance_status, text=instance_status_text)
    register_view(History, html=render_history, text=history_text)
    register_view(Diagnostic, html=lambda diagnostic: render_diagnostics([diagnostic]))
