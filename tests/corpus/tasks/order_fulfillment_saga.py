"""Hard: reserve per line, charge, compensate (release in reverse) on a declined charge."""

from __future__ import annotations

from typing import Any

from agents_durable import NonRetryableError
from tests.corpus.tasks._kit import Recorder

TASK = """\
Fulfil an order, undoing the stock reservations if payment fails.

1. Load the order with `orders.get(order_id)`: {"id": str, "lines": [{"sku": str,
   "qty": int, "unit_price": str (decimal)}], "customer_id": str}.
2. Reserve stock for each line, in order, with `inventory.reserve(sku, qty,
   idempotency_key)` -> {"reservation_id": str}.
3. Charge the total (sum of qty * unit_price, exact decimals, as a string with 2
   decimals) with `payments.charge(customer_id, amount, idempotency_key)`. A declined
   card raises a non-retryable error.
4. Charged: `shipping.create(order_id)` and finish with status "fulfilled".
   Declined: release every reservation in reverse order with
   `inventory.release(reservation_id)` (once each), mark the order with
   `orders.cancel(order_id, reason)`, and finish with status "cancelled".

Params (`event.payload`): {"order_id": "SO-812"}.
No events arrive.

Return: {"order_id": str, "status": "fulfilled" | "cancelled", "total": str,
"released": [reservation_id, ...] (in release order; empty if fulfilled)}.
"""

PARAMS = {"order_id": "SO-812"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
LINES = [{"sku": "LAMP", "qty": 2, "unit_price": "34.95"},
         {"sku": "BULB", "qty": 6, "unit_price": "3.99"},
         {"sku": "CABLE", "qty": 1, "unit_price": "12.50"}]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(reserved=[], released=[], charges=[], cancelled=[], shipments=[])

    def orders_get(order_id: str) -> dict:
        """Load an order: {"id": str, "customer_id": str, "lines": [{"sku", "qty",
        "unit_price"}]}."""
        rec.call("orders.get", order_id)
        return {"id": order_id, "customer_id": "C-41", "lines": [dict(x) for x in LINES]}

    def inventory_reserve(sku: str, qty: int, idempotency_key: str = "") -> dict:
        """Reserve stock. Returns {"reservation_id": str}."""
        rec.call("inventory.reserve", sku, qty)
        rec.once("reserved", idempotency_key, sku)
        return {"reservation_id": f"RES-{sku}"}

    def inventory_release(reservation_id: str) -> dict:
        """Release a stock reservation. Returns {"ok": True}."""
        rec.call("inventory.release", reservation_id)
        rec.add("released", reservation_id)
        return {"ok": True}

    def payments_charge(customer_id: str, amount: str, idempotency_key: str = "") -> dict:
        """Charge a customer's card. Returns {"charge_id": str}.

        Raises a non-retryable error "card declined" when the card is refused.
        """
        rec.call("payments.charge", customer_id, amount)
        rec.add("charges", amount)
        raise NonRetryableError("card declined")

    def orders_cancel(order_id: str, reason: str) -> dict:
        """Mark an order cancelled. Returns {"status": "cancelled"}."""
        rec.call("orders.cancel", order_id)
        rec.add("cancelled", order_id)
        return {"status": "cancelled"}

    def shipping_create(order_id: str) -> dict:
        """Create a shipment for an order. Returns {"shipment_id": str}."""
        rec.call("shipping.create", order_id)
        rec.add("shipments", order_id)
        return {"shipment_id": "SH-1"}

    return {"orders.get": orders_get, "inventory.reserve": inventory_reserve,
            "inventory.release": inventory_release, "payments.charge": payments_charge,
            "orders.cancel": orders_cancel, "shipping.create": shipping_create}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    released = ["RES-CABLE", "RES-BULB", "RES-LAMP"]
    assert output == {"order_id": "SO-812", "status": "cancelled", "total": "106.34",
                      "released": released}, output
    assert state["reserved"] == ["LAMP", "BULB", "CABLE"]
    assert state["released"] == released and state["charges"] == ["106.34"]
    assert state["cancelled"] == ["SO-812"] and state["shipments"] == []
