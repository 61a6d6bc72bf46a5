"""Medium: manager then finance approval, correlated by id and role; finance times out."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Route an expense claim through approval.

1. Email the manager with `email.send(to, subject, body)` asking for approval.
2. Wait up to 2 days for an event "expense-decision" with payload
   {"expense_id": str, "role": "manager" | "finance", "approved": bool, "by": str}.
   Only events for this expense_id and role "manager" count at this stage.
   - Rejected: email the requester and finish with status "rejected".
   - No decision in 2 days: finish with status "expired" (email the requester).
3. If the manager approved and the amount (a decimal string) is above "500.00", finance
   must approve too: email the finance address, then wait up to 3 days for an
   "expense-decision" for this expense with role "finance".
   - Approved: status "approved". Rejected: status "rejected".
   - No decision in 3 days: open an escalation ticket with
     `tickets.open(queue, summary)` with queue exactly "finance-escalations", and finish
     with status "escalated".
   Amounts up to 500.00 are approved by the manager alone (status "approved").
4. Whenever the claim ends approved or rejected, email the requester the outcome (one
   email). Escalated claims do not email the requester.

Params (`event.payload`): {"expense_id": "EXP-310", "amount": "1280.00", "requester":
"lee@acme.example", "manager": "dana@acme.example", "finance": "ap@acme.example"}.

Return: {"expense_id": str, "status": "approved" | "rejected" | "expired" | "escalated",
"approvals": [str, ...] (the "by" of each approving decision, in order), "ticket_id":
str or null}.
"""

PARAMS = {"expense_id": "EXP-310", "amount": "1280.00", "requester": "lee@acme.example",
          "manager": "dana@acme.example", "finance": "ap@acme.example"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "5 hours"),
    ("event", "expense-decision", {"expense_id": "EXP-999", "role": "manager",
                                   "approved": False, "by": "dana@acme.example"}),
    ("event", "expense-decision", {"expense_id": "EXP-310", "role": "manager",
                                   "approved": True, "by": "dana@acme.example"}),
    ("advance", "1 day"), ("expect_status", "waiting"),
    ("advance", "3 days"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], tickets=[])

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    def tickets_open(queue: str, summary: str) -> dict:
        """Open a ticket in a work queue. Returns {"ticket_id": str}."""
        rec.call("tickets.open", queue)
        rec.add("tickets", queue)
        return {"ticket_id": rec.next_id("FIN")}

    return {"email.send": email_send, "tickets.open": tickets_open}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"expense_id": "EXP-310", "status": "escalated",
                      "approvals": ["dana@acme.example"], "ticket_id": "FIN-1"}, output
    assert sorted(state["emails"]) == ["ap@acme.example", "dana@acme.example"], state["emails"]
    assert state["tickets"] == ["finance-escalations"], state["tickets"]
