"""The tool registry as a host developer uses it."""

from __future__ import annotations

import agents_durable as ad


def test_tool_signature_reads_plainly_under_postponed_annotations() -> None:
    # This module has ``from __future__ import annotations``: annotations are strings.
    def lookup(order_id: int, verbose: bool = False) -> dict[str, int]:
        """Look up an order."""
        return {}

    spec = ad.engine.ToolRegistry().register("orders.lookup", lookup)
    assert spec.signature == "(order_id: int, verbose: bool = False) -> dict[str, int]"
    assert spec.description == "Look up an order."
