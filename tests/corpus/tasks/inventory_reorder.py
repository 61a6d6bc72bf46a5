"""Simple: reorder every SKU below its reorder point."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Nightly inventory reorder for one warehouse.

1. Get the stock levels with `inventory.levels(warehouse)`: a list of
   {"sku", "on_hand", "reorder_point", "reorder_qty"}.
2. For every SKU whose `on_hand` is strictly below its `reorder_point`, place one purchase
   order with `purchasing.order(sku, qty, idempotency_key)` where qty is that SKU's
   `reorder_qty`. Each SKU must be ordered exactly once.
3. SKUs at or above their reorder point are skipped.

Params (`event.payload`): {"warehouse": "AMS-1"}.
No events arrive.

Return: {"warehouse": str, "ordered": [{"sku": str, "qty": int, "po": str (the "po"
purchasing.order returned)}, ...] in the order the SKUs were listed, "skipped": int (how
many SKUs needed no order)}.
"""

PARAMS = {"warehouse": "AMS-1"}
SCENARIO: list[tuple[Any, ...]] = []

LEVELS = [
    {"sku": "MUG-01", "on_hand": 4, "reorder_point": 10, "reorder_qty": 50},
    {"sku": "TEE-M", "on_hand": 31, "reorder_point": 20, "reorder_qty": 40},
    {"sku": "CAP-RED", "on_hand": 0, "reorder_point": 5, "reorder_qty": 25},
    {"sku": "BAG-XL", "on_hand": 12, "reorder_point": 12, "reorder_qty": 10},
    {"sku": "PEN-BLU", "on_hand": 99, "reorder_point": 100, "reorder_qty": 500},
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(orders=[])

    def inventory_levels(warehouse: str) -> list:
        """Stock levels of a warehouse.

        Returns a list of {"sku": str, "on_hand": int, "reorder_point": int,
        "reorder_qty": int}.
        """
        rec.call("inventory.levels", warehouse)
        return [dict(x) for x in LEVELS]

    def purchasing_order(sku: str, qty: int, idempotency_key: str = "") -> dict:
        """Place a purchase order for `qty` units of `sku`. Returns {"po": str}."""
        rec.call("purchasing.order", sku)
        rec.once("orders", idempotency_key, {"sku": sku, "qty": qty})
        return {"po": f"PO-{sku}"}

    return {"inventory.levels": inventory_levels,
            "purchasing.order": purchasing_order}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    expected = [{"sku": "MUG-01", "qty": 50, "po": "PO-MUG-01"},
                {"sku": "CAP-RED", "qty": 25, "po": "PO-CAP-RED"},
                {"sku": "PEN-BLU", "qty": 500, "po": "PO-PEN-BLU"}]
    assert output == {"warehouse": "AMS-1", "ordered": expected, "skipped": 2}, output
    assert sorted(state["orders"], key=lambda o: o["sku"]) == sorted(
        [{"sku": e["sku"], "qty": e["qty"]} for e in expected], key=lambda o: o["sku"])
