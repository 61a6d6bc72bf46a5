"""Hard: tiered refund approval with escalation on timeout and auto-deny."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Decide a customer's refund request.

- Amounts up to "50.00" (decimal strings; compare as decimals) are approved
  automatically (decided_by "auto").
- Larger amounts need a human: post the request to the support queue with
  `queue.post(level, refund_id, amount)` with level "agent", then wait up to 24 hours
  for an event "refund-decision" with payload {"refund_id": str, "level": "agent" |
  "supervisor", "approved": bool}; only decisions for this refund and the level you
  are waiting for count.
- If the agent does not decide in 24 hours, escalate: `queue.post("supervisor",
  refund_id, amount)` and wait up to 24 hours for the supervisor's decision.
- If the supervisor does not decide either, deny automatically (decided_by "timeout").
- Approved (by anyone): refund with `payments.refund(refund_id, amount,
  idempotency_key)` exactly once. Finally tell the customer the outcome with
  `email.send(to, subject, body)` (one email).

Params (`event.payload`): {"refund_id": "RF-77", "amount": "320.00", "email":
"cy@example.com"}.

Return: {"refund_id": str, "approved": bool, "decided_by": "auto" | "agent" |
"supervisor" | "timeout", "refunded": str (the amount) or null}.
"""

PARAMS = {"refund_id": "RF-77", "amount": "320.00", "email": "cy@example.com"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "10 hours"),
    ("event", "refund-decision", {"refund_id": "RF-70", "level": "agent", "approved": True}),
    ("advance", "15 hours"),
    ("advance", "5 hours"),
    ("event", "refund-decision", {"refund_id": "RF-77", "level": "agent", "approved": False}),
    ("event", "refund-decision", {"refund_id": "RF-77", "level": "supervisor",
                                  "approved": True}),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(posts=[], refunds=[], emails=[])

    def queue_post(level: str, refund_id: str, amount: str) -> dict:
        """Post a refund request to a support queue ("agent" or "supervisor").

        Returns {"ticket": str}.
        """
        rec.call("queue.post", level)
        rec.add("posts", level)
        return {"ticket": rec.next_id("Q")}

    def payments_refund(refund_id: str, amount: str, idempotency_key: str = "") -> dict:
        """Refund money to the customer. Returns {"status": "succeeded"}."""
        rec.call("payments.refund", refund_id)
        rec.once("refunds", idempotency_key, amount)
        return {"status": "succeeded"}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    return {"queue.post": queue_post, "payments.refund": payments_refund,
            "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    # The agent's late "no" arrives after the escalation: only the supervisor counts then.
    assert output == {"refund_id": "RF-77", "approved": True, "decided_by": "supervisor",
                      "refunded": "320.00"}, output
    assert state["posts"] == ["agent", "supervisor"], state["posts"]
    assert state["refunds"] == ["320.00"] and state["emails"] == ["cy@example.com"]
