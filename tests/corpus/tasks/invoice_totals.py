"""Simple: Decimal totals of open invoices with tax rounded half-up."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Prepare a customer's monthly statement.

1. List the invoices with `invoices.list(customer_id)`: a list of {"number": str,
   "amount": str (decimal, e.g. "19.99"), "status": "open" | "paid" | "void"}.
2. Subtotal = the sum of the amounts of the "open" invoices. Use exact decimal
   arithmetic (no floats).
3. Tax = subtotal * 8.25%, rounded to cents with ROUND_HALF_UP. Total = subtotal + tax.
4. Create the statement once with `billing.statement(customer_id, total, idempotency_key)`,
   total as a string with exactly 2 decimals.

Params (`event.payload`): {"customer_id": "CUST-3"}.
No events arrive.

Return: {"customer_id": str, "open_invoices": [number, ...] (in listed order),
"subtotal": str, "tax": str, "total": str} with money as strings with 2 decimals
("1234.50").
"""

PARAMS = {"customer_id": "CUST-3"}
SCENARIO: list[tuple[Any, ...]] = []

INVOICES = [
    {"number": "INV-1", "amount": "19.99", "status": "open"},
    {"number": "INV-2", "amount": "250.00", "status": "paid"},
    {"number": "INV-3", "amount": "0.10", "status": "open"},
    {"number": "INV-4", "amount": "1200.35", "status": "open"},
    {"number": "INV-5", "amount": "99.99", "status": "void"},
    {"number": "INV-6", "amount": "0.20", "status": "open"},
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(statements=[])

    def invoices_list(customer_id: str) -> list:
        """A customer's invoices: a list of {"number": str, "amount": str, "status": str}."""
        rec.call("invoices.list", customer_id)
        return [dict(i) for i in INVOICES]

    def billing_statement(customer_id: str, total: str, idempotency_key: str = "") -> dict:
        """Create a monthly statement for `total` (decimal string). Returns {"id": str}."""
        rec.call("billing.statement", customer_id)
        rec.once("statements", idempotency_key, {"customer_id": customer_id, "total": total})
        return {"id": "ST-1"}

    return {"invoices.list": invoices_list, "billing.statement": billing_statement}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    # 19.99 + 0.10 + 1200.35 + 0.20 = 1220.64; tax 100.7028 -> 100.70
    assert output == {"customer_id": "CUST-3", "open_invoices": ["INV-1", "INV-3", "INV-4",
                                                                 "INV-6"],
                      "subtotal": "1220.64", "tax": "100.70", "total": "1321.34"}, output
    assert state["statements"] == [{"customer_id": "CUST-3", "total": "1321.34"}]
