"""Medium: survey response with timeout and a category; detractors get a ticket."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Run a one-question NPS survey for a customer.

1. Send the survey with `email.send(to, subject, body)` to the `email` param.
2. Wait up to 3 days for an event "survey-response" with payload {"user_id": str,
   "score": int (0-10), "comment": str}; only responses of this user count.
3. Category: "promoter" for 9-10, "passive" for 7-8, "detractor" for 0-6.
4. For a detractor, open a follow-up ticket with `tickets.open(user_id, reason)` whose
   reason contains the comment.
5. No response in 3 days: finish with score and category null (no ticket).

Params (`event.payload`): {"user_id": "u-51", "email": "kai@example.com"}.

Return: {"user_id": str, "score": int or null, "category": str or null, "ticket_id":
str or null}.
"""

PARAMS = {"user_id": "u-51", "email": "kai@example.com"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "20 hours"),
    ("event", "survey-response", {"user_id": "u-50", "score": 10, "comment": "great"}),
    ("event", "survey-response", {"user_id": "u-51", "score": 4,
                                  "comment": "export is too slow"}),
    ("advance", "4 days"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], tickets=[])

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    def tickets_open(user_id: str, reason: str) -> dict:
        """Open a customer follow-up ticket. Returns {"ticket_id": str}."""
        rec.call("tickets.open", user_id)
        rec.add("tickets", {"user_id": user_id, "reason": reason})
        return {"ticket_id": rec.next_id("CX")}

    return {"email.send": email_send, "tickets.open": tickets_open}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"user_id": "u-51", "score": 4, "category": "detractor",
                      "ticket_id": "CX-1"}, output
    assert state["emails"] == ["kai@example.com"]
    assert len(state["tickets"]) == 1 and "export is too slow" in state["tickets"][0]["reason"]
