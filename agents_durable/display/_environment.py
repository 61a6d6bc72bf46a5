"""The jinja2 environment of the rich views.

Autoescape is on for every template, whatever its name: plan source, params, payloads,
step names and printed lines are written by agents or their users and must never become
markup in a notebook. Templates ship as package files under ``templates/``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jinja2

from agents_durable.display._formatting import (
    format_duration,
    format_json,
    format_time,
    shorten,
)

__all__ = ["environment", "render"]


def _number(value: float) -> str:
    """Pixel coordinates with at most one decimal, so the SVG stays small."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


@functools.cache
def environment() -> jinja2.Environment:
    """The shared environment (built once): package loader, autoescape on, our filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("agents_durable.display", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(duration=format_duration, time=format_time, pretty=format_json,
                       shorten=shorten, px=_number,
                       compact=lambda value: json.dumps(value, ensure_ascii=False,
                                                        default=str))
    return env


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)
