"""Hard: Decimal totals, budget check, correlated approval, commit then POs per vendor."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Process a purchase request against its cost center's budget.

1. total = the exact decimal sum of qty * unit_price over the request's lines.
2. Get the budget left with `budgets.remaining(cost_center)` -> str (decimal). If total
   is more than that, the status is "rejected_budget".
3. Otherwise, a total of at most 2500.00 is approved automatically. A larger one needs
   finance: request it once with `approvals.request(request_id, total,
   idempotency_key)` and wait up to 2 days for the event "procurement-decision",
   payload {"request_id": str, "approved": bool, "approver": str}, for this request.
   Declined: status "declined"; no decision in 2 days: status "expired".
4. Approved: commit the total once with `budgets.commit(cost_center, amount,
   idempotency_key)`, then create one purchase order per vendor with
   `purchasing.create_po(vendor, lines, amount, idempotency_key)` -> {"po_id": str}
   (lines: that vendor's request lines; amount: their subtotal). The purchasing system
   has transient errors; retrying helps. Status "ordered".
5. In every case, email the requester once with `email.send(to, subject, body,
   idempotency_key)` saying the status.

Amounts are strings with 2 decimals.

Params (`event.payload`): {"request_id": "PR-77", "cost_center": "CC-ENG", "requester":
"kim@corp.example", "lines": [{"vendor": str, "item": str, "qty": int, "unit_price":
str}, ...]}.

Return: {"request_id": str, "status": "ordered" | "rejected_budget" | "declined" |
"expired", "total": str, "pos": [{"vendor": str, "po_id": str, "amount": str}, ...]
(sorted by vendor; empty unless ordered)}.
"""

PARAMS = {"request_id": "PR-77", "cost_center": "CC-ENG", "requester": "kim@corp.example",
          "lines": [{"vendor": "Acme", "item": "laptop", "qty": 3, "unit_price": "499.99"},
                    {"vendor": "Cobalt", "item": "license", "qty": 1,
                     "unit_price": "1200.50"},
                    {"vendor": "Bolt", "item": "cable", "qty": 10, "unit_price": "12.345"},
                    {"vendor": "Acme", "item": "monitor", "qty": 2,
                     "unit_price": "210.00"}]}


def _decision(request: str, approved: bool) -> tuple[Any, ...]:
    return ("event", "procurement-decision", {"request_id": request, "approved": approved,
                                              "approver": "fin@corp.example"})


def _not_committed(state: dict[str, Any]) -> None:
    assert state["commits"] == [] and state["pos"] == [], state


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "2 hours"), _decision("PR-76", True), ("probe", _not_committed),
    ("advance", "3 hours"), _decision("PR-77", True),
    ("advance", "1 hour"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(approvals=[], commits=[], pos=[], emails=[])

    def budgets_remaining(cost_center: str) -> str:
        """Budget left on a cost center, a decimal string."""
        rec.call("budgets.remaining", cost_center)
        return "5000.00"

    def approvals_request(request_id: str, total: str, idempotency_key: str = "") -> dict:
        """Ask finance to approve a purchase. Returns {"ok": True}."""
        rec.call("approvals.request", request_id)
        rec.once("approvals", idempotency_key, (request_id, total))
        return {"ok": True}

    def budgets_commit(cost_center: str, amount: str, idempotency_key: str = "") -> dict:
        """Commit spend against a cost center's budget. Returns {"remaining": str}."""
        rec.call("budgets.commit", cost_center, amount)
        rec.once("commits", idempotency_key, (cost_center, amount))
        return {"remaining": "1756.08"}

    def purchasing_create_po(vendor: str, lines: list, amount: str,
                             idempotency_key: str = "") -> dict:
        """Create a purchase order with a vendor. Returns {"po_id": str}.

        Raises ConnectionError when the purchasing system is busy (retrying helps).
        """
        if rec.call("purchasing.create_po", vendor) == 1 and vendor == "Bolt":
            raise ConnectionError("purchasing system busy")
        items = sorted((x["item"], x["qty"]) for x in lines)
        rec.once("pos", idempotency_key, (vendor, amount, items))
        return {"po_id": f"PO-{vendor.upper()}"}

    def email_send(to: str, subject: str, body: str, idempotency_key: str = "") -> dict:
        """Send an email once per idempotency key. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.once("emails", idempotency_key, to)
        return {"message_id": rec.next_id("M")}

    return {"budgets.remaining": budgets_remaining, "approvals.request": approvals_request,
            "budgets.commit": budgets_commit, "purchasing.create_po": purchasing_create_po,
            "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"request_id": "PR-77", "status": "ordered", "total": "3243.92",
                      "pos": [{"vendor": "Acme", "po_id": "PO-ACME", "amount": "1919.97"},
                              {"vendor": "Bolt", "po_id": "PO-BOLT", "amount": "123.45"},
                              {"vendor": "Cobalt", "po_id": "PO-COBALT",
                               "amount": "1200.50"}]}, output
    assert state["approvals"] == [("PR-77", "3243.92")], state["approvals"]
    assert state["commits"] == [("CC-ENG", "3243.92")], state["commits"]
    assert sorted(state["pos"]) == [
        ("Acme", "1919.97", [("laptop", 3), ("monitor", 2)]),
        ("Bolt", "123.45", [("cable", 10)]),
        ("Cobalt", "1200.50", [("license", 1)])], state["pos"]
    assert state["emails"] == ["kim@corp.example"], state["emails"]
