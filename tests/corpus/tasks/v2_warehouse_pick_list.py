"""Simple: aggregate order lines per SKU, look up bins once, sort the walk by bin."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Build the pick list for a warehouse wave.

1. Get the orders ready to pick with `orders.ready(warehouse)` -> a list of
   {"order_id": str, "lines": [{"sku": str, "qty": int}]}.
2. Look up the storage bin of every distinct SKU with one call of
   `catalog.bins(skus)` -> {sku: bin} (bins are strings like "A-03").
3. The pick list has one row per SKU with the total quantity over all orders, sorted by
   bin, then by SKU for SKUs in the same bin.
4. Create it once with `picking.create_list(warehouse, rows, idempotency_key)` ->
   {"list_id": str}, rows as in the output.

Params (`event.payload`): {"warehouse": "WH-EAST"}.
No events arrive.

Return: {"list_id": str, "rows": [{"bin": str, "sku": str, "qty": int}, ...],
"orders": [order_id, ...] (in the order `orders.ready` gave them)}.
"""

PARAMS = {"warehouse": "WH-EAST"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
ORDERS = [
    {"order_id": "o-17", "lines": [{"sku": "SKU-A", "qty": 2}, {"sku": "SKU-B", "qty": 1}]},
    {"order_id": "o-09", "lines": [{"sku": "SKU-C", "qty": 5}, {"sku": "SKU-A", "qty": 1}]},
    {"order_id": "o-21", "lines": [{"sku": "SKU-B", "qty": 3}, {"sku": "SKU-D", "qty": 1}]},
]
BINS = {"SKU-A": "B-02", "SKU-B": "A-10", "SKU-C": "A-03", "SKU-D": "B-02"}


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(lists=[])

    def orders_ready(warehouse: str) -> list:
        """Orders ready to pick: [{"order_id": str, "lines": [{"sku", "qty"}]}]."""
        rec.call("orders.ready", warehouse)
        return [{"order_id": o["order_id"], "lines": [dict(x) for x in o["lines"]]}
                for o in ORDERS]

    def catalog_bins(skus: list) -> dict:
        """Storage bin per SKU: {sku: bin}."""
        rec.call("catalog.bins", sorted(skus))
        return {s: BINS[s] for s in skus}

    def picking_create_list(warehouse: str, rows: list, idempotency_key: str = "") -> dict:
        """Create a pick list for the floor. Returns {"list_id": str}."""
        rec.call("picking.create_list", warehouse)
        rec.once("lists", idempotency_key, [dict(r) for r in rows])
        return {"list_id": "PL-5521"}

    return {"orders.ready": orders_ready, "catalog.bins": catalog_bins,
            "picking.create_list": picking_create_list}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    rows = [{"bin": "A-03", "sku": "SKU-C", "qty": 5},
            {"bin": "A-10", "sku": "SKU-B", "qty": 4},
            {"bin": "B-02", "sku": "SKU-A", "qty": 3},
            {"bin": "B-02", "sku": "SKU-D", "qty": 1}]
    assert output == {"list_id": "PL-5521", "rows": rows,
                      "orders": ["o-17", "o-09", "o-21"]}, output
    assert state["lists"] == [rows], state["lists"]
    bins_calls = [c for c in state["calls"] if c[0] == "catalog.bins"]
    assert bins_calls == [["catalog.bins", ["SKU-A", "SKU-B", "SKU-C", "SKU-D"]]], bins_calls
