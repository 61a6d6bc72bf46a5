"""Medium-hard: aggregate usage with defaultdict, tiered Decimal pricing, one invoice."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Bill an account for last month's usage.

1. Get usage records with `usage.records(account_id, month)`: a list of {"metric":
   "api_calls" | "storage_gb" | "seats", "qty": str (decimal)}. Sum qty per metric with
   exact decimals.
2. Price each metric (exact decimals, each line rounded to cents with ROUND_HALF_UP):
   - api_calls: the first 10000 calls are free, then 0.002 per call
   - storage_gb: 0.10 per GB
   - seats: 12.00 per seat
   A metric with no records gets no line.
3. Create one invoice with `invoices.create(account_id, lines, total, idempotency_key)`
   where lines is the list of line dicts below (in the order api_calls, storage_gb,
   seats, skipping absent ones) and total their sum (2 decimals).

Params (`event.payload`): {"account_id": "acct-9", "month": "2025-12"}.
No events arrive.

Return: {"account_id": str, "lines": [{"metric": str, "qty": str (the summed quantity,
as `str()` of the decimal sum), "amount": str (2 decimals)}, ...], "total": str (2
decimals)}.
"""

PARAMS = {"account_id": "acct-9", "month": "2025-12"}
SCENARIO: list[tuple[Any, ...]] = []
RECORDS = [("api_calls", "4200"), ("storage_gb", "12.5"), ("api_calls", "9100"),
           ("storage_gb", "0.25"), ("api_calls", "333"), ("storage_gb", "7.125")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(invoices=[])

    def usage_records(account_id: str, month: str) -> list:
        """Metered usage of an account in a month ("YYYY-MM").

        A list of {"metric": str, "qty": str (decimal)}.
        """
        rec.call("usage.records", account_id, month)
        return [{"metric": m, "qty": q} for m, q in RECORDS]

    def invoices_create(account_id: str, lines: list, total: str,
                        idempotency_key: str = "") -> dict:
        """Create an invoice. Returns {"invoice_id": str}."""
        rec.call("invoices.create", account_id)
        rec.once("invoices", idempotency_key, {"lines": list(lines), "total": total})
        return {"invoice_id": "INV-2025-12-9"}

    return {"usage.records": usage_records, "invoices.create": invoices_create}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    # api_calls 13633 -> 3633 * 0.002 = 7.266 -> 7.27; storage 19.875 GB -> 1.9875 -> 1.99
    lines = [{"metric": "api_calls", "qty": "13633", "amount": "7.27"},
             {"metric": "storage_gb", "qty": "19.875", "amount": "1.99"}]
    assert output == {"account_id": "acct-9", "lines": lines, "total": "9.26"}, output
    assert state["invoices"] == [{"lines": lines, "total": "9.26"}], state["invoices"]
