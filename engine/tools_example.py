"""Example host tools: `agents-durable worker --tools engine/tools_example.py:register`.

A worker runs plans; the plans call host tools; this function registers them on the
engine's registry and returns the names to grant (to the agents named with ``--grant``).
Keep tool functions small, JSON in and JSON out, and make effects idempotent with the
``idempotency_key`` a step callback can pass along.
"""

from __future__ import annotations

from typing import Any

from agents_durable.engine import ToolRegistry

_SENT: dict[str, dict[str, Any]] = {}


def notify_send(to: str, message: str, idempotency_key: str | None = None) -> dict[str, Any]:
    """Send a message to a person. Pass ctx.idempotency_key so a retried step sends once."""
    key = idempotency_key or f"{to}:{message}"
    receipt = _SENT.setdefault(key, {"to": to, "message": message, "id": len(_SENT) + 1})
    return dict(receipt)


def register(registry: ToolRegistry) -> list[str]:
    """Register this module's tools; return the names a worker grants."""
    registry.register("notify.send", notify_send)
    return ["notify.send"]
