"""Medium: invoice on the 1st of each month at 09:00 UTC, seat-based amount, 3 months."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Generate a customer's monthly invoices for the next few months.

For each of `months` consecutive monthly periods, starting with the month the run
starts in:
1. On the 1st of that month at 09:00 UTC (if the run starts before 09:00 on the 1st,
   the first invoice is due that same day), count the customer's seats with
   `seats.count(customer_id)` -> int, taken at invoice time.
2. amount = seats * `seat_price`, exact decimals, as a string with 2 decimals.
3. Create the invoice once with `invoices.create(customer_id, period, amount,
   idempotency_key)` -> {"invoice_id": str}, period "YYYY-MM".
4. Email it once with `email.send(to, subject, body, idempotency_key)` to `email`,
   subject exactly "Invoice <period>" (e.g. "Invoice 2026-01").

Params (`event.payload`): {"customer_id": "cus-77", "email": "ap@initech.example",
"seat_price": "12.50", "months": 3}.
No events arrive.

Return: {"customer_id": str, "invoices": [{"period": "YYYY-MM", "invoice_id": str,
"amount": str}, ...] (in period order)}.
"""

PARAMS = {"customer_id": "cus-77", "email": "ap@initech.example", "seat_price": "12.50",
          "months": 3}
SEATS = [4, 5, 5, 9]


def _invoiced(periods: list[str]) -> Any:
    def probe(state: dict[str, Any]) -> None:
        assert [i["period"] for i in state["invoices"]] == periods, state["invoices"]
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "8 hours"), ("probe", _invoiced([])),
    ("advance", "2 hours"), ("probe", _invoiced(["2026-01"])),
    ("advance", "30 days"), ("probe", _invoiced(["2026-01"])),
    ("advance", "1 day"), ("probe", _invoiced(["2026-01", "2026-02"])),
    ("advance", "27 days"), ("probe", _invoiced(["2026-01", "2026-02"])),
    ("advance", "2 days"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(invoices=[], emails=[])

    def seats_count(customer_id: str) -> int:
        """How many seats a customer has right now."""
        rec.call("seats.count", customer_id)
        return SEATS[min(rec.count("seats.count"), len(SEATS)) - 1]

    def invoices_create(customer_id: str, period: str, amount: str,
                        idempotency_key: str = "") -> dict:
        """Create an invoice for a period. Returns {"invoice_id": str}."""
        rec.call("invoices.create", customer_id, period)
        rec.once("invoices", idempotency_key, {"period": period, "amount": amount})
        return {"invoice_id": f"INV-{period}"}

    def email_send(to: str, subject: str, body: str, idempotency_key: str = "") -> dict:
        """Send an email once per idempotency key. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.once("emails", idempotency_key, (to, subject))
        return {"message_id": rec.next_id("M")}

    return {"seats.count": seats_count, "invoices.create": invoices_create,
            "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    invoices = [{"period": "2026-01", "invoice_id": "INV-2026-01", "amount": "50.00"},
                {"period": "2026-02", "invoice_id": "INV-2026-02", "amount": "62.50"},
                {"period": "2026-03", "invoice_id": "INV-2026-03", "amount": "62.50"}]
    assert output == {"customer_id": "cus-77", "invoices": invoices}, output
    assert state["invoices"] == [{"period": i["period"], "amount": i["amount"]}
                                 for i in invoices], state["invoices"]
    assert sorted(state["emails"]) == [("ap@initech.example", f"Invoice 2026-0{m}")
                                       for m in (1, 2, 3)], state["emails"]
