"""Rich views without an upward import: models consult this registry, views fill it.

The data models (``PlanVersion``, ``InstanceStatus``, ``History``, ``Diagnostic``) sit at
the bottom of the package; their HTML and text views (``agents_durable.display``) sit
above them. A model must not import its view, so each model class inherits
:class:`RichModel`, whose ``_repr_html_`` and ``__str__`` look the class up here, and
``agents_durable.display`` registers its renderers when it is imported (the package's
``__init__`` imports it, so a notebook that imports ``agents_durable`` gets rich output).
A model with no registered view falls back to pydantic's plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["RichModel", "register_view"]

_HTML: dict[type, Callable[[Any], str]] = {}
_TEXT: dict[type, Callable[[Any], str]] = {}


def register_view(cls: type, *, html: Callable[[Any], str] | None = None,
                  text: Callable[[Any], str] | None = None) -> None:
    """Use ``html(obj)`` for ``obj._repr_html_()`` and ``text(obj)`` for ``str(obj)``."""
    if html is not None:
        _HTML[cls] = html
    if text is not None:
        _TEXT[cls] = text


def _lookup(table: dict[type, Callable[[Any], str]], obj: object) -> Callable[[Any], str] | None:
    for cls in type(obj).__mro__:
        if cls in table:
            return table[cls]
    return None


class RichModel:
    """Mixin: HTML and text come from the views registered for the class (or a base)."""

    __slots__ = ()

    def _repr_html_(self) -> str | None:
        view = _lookup(_HTML, self)
        return None if view is None else view(self)

    def __str__(self) -> str:
        view = _lookup(_TEXT, self)
        return super().__str__() if view is None else view(self)
