"""Medium: wait for a matching confirmation, remind once on timeout, ticket as last resort."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Follow up on an order until the customer confirms delivery.

1. Load the order with `orders.get(order_id)` (it has the customer's `email`).
2. Wait 2 days for the courier.
3. Wait up to 3 days for an event "delivery-confirmed" with payload
   {"order_id": str, "note": str}. Only an event for this order_id counts: confirmations
   of other orders arrive on the same channel and must be ignored.
4. If none arrives, send one reminder with `email.send(to, subject, body)` to the
   customer and wait up to 2 more days for the confirmation.
5. If there is still none, open a ticket with `tickets.open(order_id, reason)` (reason:
   any text).

Params (`event.payload`): {"order_id": "ORD-55"}.

Return: {"order_id": str, "confirmed": bool, "reminded": bool, "note": str (from the
confirmation) or null, "ticket_id": str or null}.
"""

PARAMS = {"order_id": "ORD-55"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "2 days"),
    ("event", "delivery-confirmed", {"order_id": "ORD-99", "note": "wrong order"}),
    ("advance", "3 days"), ("advance", "1 hour"),
    ("event", "delivery-confirmed", {"order_id": "ORD-55", "note": "at the neighbour's"}),
    ("advance", "3 days"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], tickets=[])

    def orders_get(order_id: str) -> dict:
        """Look up an order. Returns {"id": str, "email": str, "items": int}."""
        rec.call("orders.get", order_id)
        return {"id": order_id, "email": "noor@example.com", "items": 2}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", {"to": to, "subject": subject})
        return {"message_id": rec.next_id("M")}

    def tickets_open(order_id: str, reason: str) -> dict:
        """Open a support ticket about an order. Returns {"ticket_id": str}."""
        rec.call("tickets.open", order_id)
        rec.add("tickets", order_id)
        return {"ticket_id": rec.next_id("T")}

    return {"orders.get": orders_get, "email.send": email_send,
            "tickets.open": tickets_open}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"order_id": "ORD-55", "confirmed": True, "reminded": True,
                      "note": "at the neighbour's", "ticket_id": None}, output
    assert [e["to"] for e in state["emails"]] == ["noor@example.com"], state["emails"]
    assert state["tickets"] == []
