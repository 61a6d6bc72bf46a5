"""Simple: look an order up, email the customer if delivered, otherwise open a ticket."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
When a customer asks "where is my order?", check the order and act on it.

1. Look the order up with `orders.get(order_id)`.
2. If its `status` is "delivered", email the customer (the order's `customer_email`) with
   `email.send(to, subject, body)`, subject exactly "Your order <order_id> was delivered"
   (body: anything friendly).
3. Otherwise open a support ticket with `tickets.open(order_id, reason)`, reason exactly
   "not delivered: <status>" (the order's status, e.g. "not delivered: in_transit").
   Do not email the customer in that case.

Params (`event.payload`): {"order_id": "A-1001"}.
No events arrive.

Return: {"order_id": str, "status": str (the order's status), "action": "emailed" or
"ticket", "ticket_id": str (the id tickets.open returned) or null when emailed}.
"""

PARAMS = {"order_id": "A-1001"}
SCENARIO: list[tuple[Any, ...]] = []


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], tickets=[])

    def orders_get(order_id: str) -> dict:
        """Look up an order by id.

        Returns {"id": str, "status": "placed" | "in_transit" | "delivered",
        "customer_email": str, "carrier": str}.
        """
        rec.call("orders.get", order_id)
        return {"id": order_id, "status": "in_transit", "customer_email": "kim@example.com",
                "carrier": "DHL"}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", {"to": to, "subject": subject, "body": body})
        return {"message_id": rec.next_id("M")}

    def tickets_open(order_id: str, reason: str) -> dict:
        """Open a support ticket about an order. Returns {"ticket_id": str}."""
        rec.call("tickets.open", order_id)
        ticket_id = rec.next_id("T")
        rec.add("tickets", {"order_id": order_id, "reason": reason, "ticket_id": ticket_id})
        return {"ticket_id": ticket_id}

    return {"orders.get": orders_get, "email.send": email_send,
            "tickets.open": tickets_open}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"order_id": "A-1001", "status": "in_transit", "action": "ticket",
                      "ticket_id": "T-1"}, output
    assert state["tickets"] == [{"order_id": "A-1001", "reason": "not delivered: in_transit",
                                 "ticket_id": "T-1"}], state["tickets"]
    assert state["emails"] == [], state["emails"]
