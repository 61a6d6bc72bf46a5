"""Simple: a case reference from step.uuid() that must survive replay."""

from __future__ import annotations

import uuid
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Open a support case with a fresh reference number and tell the customer.

1. Generate a new random UUID as the case reference (a string like
   "0b7e...-...": the standard 36-character form).
2. Create the case with `cases.create(customer, reference, idempotency_key)`.
3. Wait 10 minutes (give the case system time to index it), then email the customer
   with `email.send(to, subject, body)`: `to` is the customer's email param, and the body
   must contain the reference.

Params (`event.payload`): {"customer": "C-204", "email": "rui@example.com"}.
No events arrive.

Return: {"reference": str (the UUID), "case_id": str (from cases.create)}.
"""

PARAMS = {"customer": "C-204", "email": "rui@example.com"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "5 minutes"), ("advance", "10 minutes")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(cases=[], emails=[])

    def cases_create(customer: str, reference: str, idempotency_key: str = "") -> dict:
        """Create a support case. Returns {"case_id": str}."""
        rec.call("cases.create", customer)
        rec.once("cases", idempotency_key, {"customer": customer, "reference": reference})
        return {"case_id": f"CASE-{reference[:8]}"}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", {"to": to, "subject": subject, "body": body})
        return {"message_id": rec.next_id("M")}

    return {"cases.create": cases_create, "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert isinstance(output, dict) and set(output) == {"reference", "case_id"}, output
    reference = output["reference"]
    assert str(uuid.UUID(reference)) == reference, reference
    assert output == {"reference": reference, "case_id": f"CASE-{reference[:8]}"}, output
    assert state["cases"] == [{"customer": "C-204", "reference": reference}], state["cases"]
    assert len(state["emails"]) == 1 and state["emails"][0]["to"] == "rui@example.com"
    assert reference in state["emails"][0]["body"]
