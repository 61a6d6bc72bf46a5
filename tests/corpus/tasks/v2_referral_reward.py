"""Simple: a referral pays out to both sides when the first order reaches a threshold."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Pay out a referral reward.

1. Load the referral with `referrals.get(referral_id)` -> {"referrer_id": str,
   "referee_id": str, "status": "pending"}.
2. Find the referred customer's first paid order with `orders.first_paid(customer_id)`
   -> {"order_id": str, "total": str (decimal)} or null when there is none.
3. If that order's total is at least 50.00: grant store credit with
   `credits.grant(customer_id, amount, reason, idempotency_key)`: "20.00" to the
   referrer and "10.00" to the referee (once each, reason "referral"), then mark the
   referral with `referrals.mark(referral_id, "rewarded")`. Otherwise (no paid order, or
   a smaller total) grant nothing and mark it "ineligible".

Params (`event.payload`): {"referral_id": "REF-311"}.
No events arrive.

Return: {"referral_id": str, "status": "rewarded" | "ineligible", "credits":
[{"customer_id": str, "amount": str}, ...] (referrer first; empty if ineligible)}.
"""

PARAMS = {"referral_id": "REF-311"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(grants=[], marks=[])

    def referrals_get(referral_id: str) -> dict:
        """A referral: {"referrer_id": str, "referee_id": str, "status": str}."""
        rec.call("referrals.get", referral_id)
        return {"referrer_id": "cus-100", "referee_id": "cus-245", "status": "pending"}

    def orders_first_paid(customer_id: str) -> dict | None:
        """A customer's first paid order {"order_id": str, "total": str}, or None."""
        rec.call("orders.first_paid", customer_id)
        if customer_id == "cus-245":
            return {"order_id": "ord-9", "total": "50.00"}
        return None

    def credits_grant(customer_id: str, amount: str, reason: str,
                      idempotency_key: str = "") -> dict:
        """Grant store credit to a customer. Returns {"credit_id": str}."""
        rec.call("credits.grant", customer_id, amount)
        rec.once("grants", idempotency_key, (customer_id, amount, reason))
        return {"credit_id": f"cr-{customer_id}"}

    def referrals_mark(referral_id: str, status: str) -> dict:
        """Set a referral's status. Returns {"ok": True}."""
        rec.call("referrals.mark", referral_id, status)
        rec.add("marks", (referral_id, status))
        return {"ok": True}

    return {"referrals.get": referrals_get, "orders.first_paid": orders_first_paid,
            "credits.grant": credits_grant, "referrals.mark": referrals_mark}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"referral_id": "REF-311", "status": "rewarded", "credits": [
        {"customer_id": "cus-100", "amount": "20.00"},
        {"customer_id": "cus-245", "amount": "10.00"}]}, output
    assert sorted(state["grants"]) == [("cus-100", "20.00", "referral"),
                                       ("cus-245", "10.00", "referral")], state["grants"]
    assert state["marks"] == [("REF-311", "rewarded")], state["marks"]
