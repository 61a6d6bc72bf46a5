"""Medium: reminders at computed dates after the due date, stopped by a payment event."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Chase an unpaid invoice.

1. Read the invoice with `invoices.get(invoice_id)`: {"id", "customer_email", "amount":
   str, "currency": str, "due_date": "YYYY-MM-DD"}.
2. Send reminders with `email.send(to, subject, body)` to the customer at 09:00 UTC on
   the due date + 3 days, + 7 days and + 14 days. The subject of reminder n (1, 2, 3) is
   exactly "Reminder <n>: invoice <id> is overdue".
3. The customer may pay at any time: an event "invoice-paid" arrives with payload
   {"invoice_id": str}. Only events for this invoice count. Once paid, send nothing more
   and finish.
4. If still unpaid 7 days after the third reminder, hand the invoice to collections
   with `collections.assign(invoice_id, amount)` and finish.

Params (`event.payload`): {"invoice_id": "INV-77"}.

Return: {"invoice_id": str, "reminders_sent": int, "paid": bool,
"sent_to_collections": bool}.
"""

PARAMS = {"invoice_id": "INV-77"}


def _one_reminder(state: dict[str, Any]) -> None:
    assert [e["subject"] for e in state["emails"]] == [
        "Reminder 1: invoice INV-77 is overdue"], state["emails"]


# Due 2026-01-10: reminders due Jan 13, 17 and 24 at 09:00 UTC. The run starts Jan 1.
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "12 days"), ("probe", lambda s: _none(s)),
    ("advance", "2 days"), ("probe", _one_reminder),
    ("event", "invoice-paid", {"invoice_id": "INV-12"}),
    ("advance", "1 day"),
    ("event", "invoice-paid", {"invoice_id": "INV-77"}),
    ("advance", "30 days"),
]


def _none(state: dict[str, Any]) -> None:
    assert state["emails"] == [], "reminded before due date + 3 days"


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], collections=[])

    def invoices_get(invoice_id: str) -> dict:
        """Read an invoice.

        Returns {"id": str, "customer_email": str, "amount": str, "currency": str,
        "due_date": str (YYYY-MM-DD)}.
        """
        rec.call("invoices.get", invoice_id)
        return {"id": invoice_id, "customer_email": "ap@client.example", "amount": "120.00",
                "currency": "EUR", "due_date": "2026-01-10"}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", {"to": to, "subject": subject})
        return {"message_id": rec.next_id("M")}

    def collections_assign(invoice_id: str, amount: str) -> dict:
        """Hand an unpaid invoice to the collections agency. Returns {"case": str}."""
        rec.call("collections.assign", invoice_id)
        rec.add("collections", invoice_id)
        return {"case": "COL-1"}

    return {"invoices.get": invoices_get, "email.send": email_send,
            "collections.assign": collections_assign}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"invoice_id": "INV-77", "reminders_sent": 1, "paid": True,
                      "sent_to_collections": False}, output
    assert state["emails"] == [{"to": "ap@client.example",
                                "subject": "Reminder 1: invoice INV-77 is overdue"}]
    assert state["collections"] == []
