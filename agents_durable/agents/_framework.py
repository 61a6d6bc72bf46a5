"""What the framework adapters share: the message when a framework is not installed."""

from __future__ import annotations

__all__ = ["missing_framework"]


def missing_framework(framework: str, extra: str) -> str:
    """The ``ImportError`` text for an adapter whose framework is missing: what to install."""
    return (f"{framework} is not installed, and agents_durable's {framework} adapter needs "
            f"it. Install it with: pip install 'agents-durable[{extra}]'")
