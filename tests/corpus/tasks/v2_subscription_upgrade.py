"""Hard: date-based proration in Decimal, plan change then charge, revert on decline."""

from __future__ import annotations

from typing import Any

from agents_durable import NonRetryableError
from tests.corpus.tasks._kit import Recorder

TASK = """\
Upgrade a subscription mid-period and charge the prorated difference.

1. Load the subscription with `subscriptions.get(subscription_id)` -> {"customer_id":
   str, "email": str, "plan": str, "period_start": "YYYY-MM-DD", "period_end":
   "YYYY-MM-DD" (exclusive)}, and the monthly prices of the current and the new plan
   with `plans.price(plan)` -> str (decimal).
2. proration = (new price - old price) * remaining_days / period_days, where
   period_days = period_end - period_start and remaining_days = period_end -
   effective_date, in days; exact decimals, rounded to 2 places with ROUND_HALF_UP.
3. Switch the plan with `subscriptions.change_plan(subscription_id, plan,
   idempotency_key)`, then charge with `billing.charge(customer_id, amount,
   idempotency_key)` -> {"charge_id": str}. Network errors are transient (retry); a
   declined card raises a non-retryable error.
4. Charged: status "upgraded". Declined: undo the switch once by changing the plan
   back to the old one, email the customer once with `email.send(to, subject, body,
   idempotency_key)` that the upgrade failed, status "reverted".

Params (`event.payload`): {"subscription_id": "SUB-9", "new_plan": "business",
"effective_date": "2026-01-12"}.
No events arrive.

Return: {"subscription_id": str, "status": "upgraded" | "reverted", "proration": str
(2 decimals), "plan": str (the plan in effect at the end)}.
"""

PARAMS = {"subscription_id": "SUB-9", "new_plan": "business",
          "effective_date": "2026-01-12"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "2 minutes")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(changes=[], charges=[], emails=[])

    def subscriptions_get(subscription_id: str) -> dict:
        """A subscription: {"customer_id", "email", "plan", "period_start",
        "period_end"}."""
        rec.call("subscriptions.get", subscription_id)
        return {"customer_id": "cus-58", "email": "owner@umbrella.example", "plan": "starter",
                "period_start": "2025-12-20", "period_end": "2026-01-20"}

    def plans_price(plan: str) -> str:
        """Monthly price of a plan, a decimal string."""
        rec.call("plans.price", plan)
        return {"starter": "29.00", "business": "99.00"}[plan]

    def subscriptions_change_plan(subscription_id: str, plan: str,
                                  idempotency_key: str = "") -> dict:
        """Switch a subscription to another plan. Returns {"plan": str}."""
        rec.call("subscriptions.change_plan", subscription_id, plan)
        rec.once("changes", idempotency_key, plan)
        return {"plan": plan}

    def billing_charge(customer_id: str, amount: str, idempotency_key: str = "") -> dict:
        """Charge a customer's card. Returns {"charge_id": str}.

        Raises ConnectionError on network trouble (retrying helps) and a non-retryable
        error "card declined" when the card is refused.
        """
        if rec.call("billing.charge", customer_id, amount) == 1:
            raise ConnectionError("payment gateway timeout")
        rec.once("charges", idempotency_key, amount)
        raise NonRetryableError("card declined")

    def email_send(to: str, subject: str, body: str, idempotency_key: str = "") -> dict:
        """Send an email once per idempotency key. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.once("emails", idempotency_key, to)
        return {"message_id": rec.next_id("M")}

    return {"subscriptions.get": subscriptions_get, "plans.price": plans_price,
            "subscriptions.change_plan": subscriptions_change_plan,
            "billing.charge": billing_charge, "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"subscription_id": "SUB-9", "status": "reverted", "proration": "18.06",
                      "plan": "starter"}, output
    assert state["changes"] == ["business", "starter"], state["changes"]
    assert state["charges"] == ["18.06"], state["charges"]
    assert state["emails"] == ["owner@umbrella.example"], state["emails"]
