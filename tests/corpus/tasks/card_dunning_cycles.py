"""Hard: declines are non-retryable, so the plan cycles every 3 days itself; cancel at 3."""

from __future__ import annotations

from typing import Any

from agents_durable import NonRetryableError
from tests.corpus.tasks._kit import Recorder

TASK = """\
Collect a failed subscription renewal.

Try to charge the renewal with `billing.charge(customer_id, amount, idempotency_key)`.
A declined card raises a non-retryable error ("card declined"); network trouble raises a
transient error that the default retry policy handles. Each new charge attempt must use
a new idempotency key (a repeated key returns the earlier result).

- Charge succeeded: finish with status "paid".
- Declined: email the customer with `email.send(to, subject, body)` asking them to
  update their card, wait 3 days, and try again. At most 3 charge attempts (cycles) in
  total.
- Declined on the 3rd cycle too: cancel the subscription with
  `subscriptions.cancel(customer_id)` and finish with status "cancelled" (no email on
  the last decline).

Params (`event.payload`): {"customer_id": "cus-31", "amount": "29.00", "email":
"bill@example.com"}.
No events arrive.

Return: {"customer_id": str, "status": "paid" | "cancelled", "cycles": int (charge
attempts made), "emails": int (card-update emails sent)}.
"""

PARAMS = {"customer_id": "cus-31", "amount": "29.00", "email": "bill@example.com"}


def _after_first(state: dict[str, Any]) -> None:
    assert len(state["charge_keys"]) == 1 and len(state["emails"]) == 1, state


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 day"), ("probe", _after_first),
    ("advance", "3 days"), ("advance", "3 days"), ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(charge_keys=[], emails=[], cancelled=[], paid=[])

    def billing_charge(customer_id: str, amount: str, idempotency_key: str) -> dict:
        """Charge a customer's card on file. Returns {"charge_id": str}.

        Raises a non-retryable error "card declined" when the card is refused, and
        ConnectionError on network trouble (retrying helps then).
        """
        rec.call("billing.charge", customer_id, idempotency_key)
        keys = rec.state["charge_keys"]
        if idempotency_key not in keys:
            keys.append(idempotency_key)
            if len(keys) == 2 and rec.state.get("flaked") is None:
                rec.state["flaked"] = True
                keys.pop()
                raise ConnectionError("network unreachable")
        cycle = keys.index(idempotency_key) + 1
        if cycle < 3:
            raise NonRetryableError("card declined")
        rec.add("paid", amount)
        return {"charge_id": "ch-3"}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    def subscriptions_cancel(customer_id: str) -> dict:
        """Cancel a subscription. Returns {"status": "cancelled"}."""
        rec.call("subscriptions.cancel", customer_id)
        rec.add("cancelled", customer_id)
        return {"status": "cancelled"}

    return {"billing.charge": billing_charge, "email.send": email_send,
            "subscriptions.cancel": subscriptions_cancel}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"customer_id": "cus-31", "status": "paid", "cycles": 3,
                      "emails": 2}, output
    assert len(state["charge_keys"]) == 3, state["charge_keys"]
    assert state["paid"] == ["29.00"] and state["cancelled"] == []
    assert state["emails"] == ["bill@example.com", "bill@example.com"]
