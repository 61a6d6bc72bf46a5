"""Medium: two-stage abandoned-cart follow-up with a coupon."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Win back an abandoned shopping cart.

1. Wait up to 1 hour for an event "checkout-completed" with payload {"cart_id": str}
   (only this cart counts). If it arrives, finish with outcome "purchased".
2. Otherwise email a reminder with `email.send(to, subject, body)` and wait up to 23
   more hours for the checkout. If it arrives, outcome "purchased_after_reminder".
3. Otherwise create a 10% coupon with `coupons.create(customer_id, percent,
   idempotency_key)` (returns {"code": str}), email the code to the customer, and
   finish with outcome "coupon_sent".

Params (`event.payload`): {"cart_id": "cart-5", "customer_id": "C-8",
"email": "jo@example.com"}.

Return: {"cart_id": str, "outcome": str, "coupon": str (the code) or null,
"emails_sent": int}.
"""

PARAMS = {"cart_id": "cart-5", "customer_id": "C-8", "email": "jo@example.com"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "90 minutes"),
    ("event", "checkout-completed", {"cart_id": "cart-6"}),
    ("advance", "23 hours"),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], coupons=[])

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", {"to": to, "body": body})
        return {"message_id": rec.next_id("M")}

    def coupons_create(customer_id: str, percent: int, idempotency_key: str = "") -> dict:
        """Create a single-use discount coupon. Returns {"code": str}."""
        rec.call("coupons.create", customer_id, percent)
        rec.once("coupons", idempotency_key, [customer_id, percent])
        return {"code": f"SAVE{percent}-C8X"}

    return {"email.send": email_send, "coupons.create": coupons_create}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"cart_id": "cart-5", "outcome": "coupon_sent", "coupon": "SAVE10-C8X",
                      "emails_sent": 2}, output
    assert state["coupons"] == [["C-8", 10]]
    assert [e["to"] for e in state["emails"]] == ["jo@example.com", "jo@example.com"]
    assert "SAVE10-C8X" in state["emails"][1]["body"], state["emails"]
