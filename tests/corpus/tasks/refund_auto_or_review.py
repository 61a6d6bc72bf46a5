"""Simple: refund small payments automatically (the refund API fails once), else review."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Handle a refund request.

1. Fetch the payment with `payments.get(payment_id)`; its `amount` is a decimal string
   such as "74.50".
2. If the amount is at most `auto_limit` (a decimal string param, compare as decimals,
   not floats or strings), refund the full amount with
   `payments.refund(payment_id, amount, idempotency_key)` (amount as the same decimal
   string). The refund API is sometimes briefly unavailable and raises an error: retry
   it (the default retry policy is fine), and make sure the customer is refunded exactly
   once.
3. If the amount is above the limit, open a review ticket with
   `tickets.open(payment_id, reason)` instead (reason: any text) and do not refund.

Params (`event.payload`): {"payment_id": "PAY-881", "auto_limit": "100.00"}.
No events arrive.

Return: {"payment_id": str, "refunded": bool, "amount": str (the payment amount as
given), "refund_id": str (from payments.refund) or null, "ticket_id": str or null}.
"""

PARAMS = {"payment_id": "PAY-881", "auto_limit": "100.00"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute"), ("advance", "5 minutes")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(refunds=[], tickets=[])

    def payments_get(payment_id: str) -> dict:
        """Fetch a payment.

        Returns {"id": str, "amount": str (decimal, e.g. "74.50"), "currency": str,
        "customer": str}.
        """
        rec.call("payments.get", payment_id)
        return {"id": payment_id, "amount": "74.50", "currency": "EUR", "customer": "C-9"}

    def payments_refund(payment_id: str, amount: str, idempotency_key: str) -> dict:
        """Refund `amount` (decimal string) of a payment. Idempotent per idempotency_key.

        Raises ConnectionError when the payment provider is briefly unavailable.
        Returns {"refund_id": str, "status": "succeeded"}.
        """
        if rec.call("payments.refund", payment_id) == 1:
            raise ConnectionError("payment provider unavailable, try again")
        rec.once("refunds", idempotency_key, {"payment_id": payment_id, "amount": amount})
        return {"refund_id": "RF-881", "status": "succeeded"}

    def tickets_open(subject: str, reason: str) -> dict:
        """Open a review ticket. Returns {"ticket_id": str}."""
        rec.call("tickets.open", subject)
        rec.add("tickets", {"subject": subject, "reason": reason})
        return {"ticket_id": rec.next_id("T")}

    return {"payments.get": payments_get, "payments.refund": payments_refund,
            "tickets.open": tickets_open}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"payment_id": "PAY-881", "refunded": True, "amount": "74.50",
                      "refund_id": "RF-881", "ticket_id": None}, output
    assert state["refunds"] == [{"payment_id": "PAY-881", "amount": "74.50"}], state["refunds"]
    assert state["tickets"] == []
