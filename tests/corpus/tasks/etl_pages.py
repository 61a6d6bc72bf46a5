"""Medium-hard: paginated extract, transform with Decimal, load in batches of 10."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Copy yesterday's payments into the warehouse.

1. Extract: call `source.page(cursor)` starting with cursor null (None). Each call
   returns {"records": [...], "next": str or null}; keep calling with the returned
   `next` until it is null. A page fetch sometimes fails transiently: retry it (the
   default retry policy is fine). Records are {"id": str, "amount": str (decimal),
   "currency": "EUR", "status": "settled" | "cancelled"}.
2. Transform: drop cancelled records; turn each remaining record into
   {"id": str, "amount_cents": int} (amount * 100 exactly, as an integer).
3. Load the transformed rows, in extraction order, in batches of 10 rows (the last batch
   may be smaller) with `warehouse.load(rows, batch_number, idempotency_key)` where
   batch_number starts at 1. Each batch exactly once.

Params (`event.payload`): {"day": "2025-12-31"}.
No events arrive.

Return: {"pages": int, "extracted": int (records read), "loaded": int (rows loaded),
"batches": int, "total": str (sum of the loaded amounts in euros, 2 decimals, e.g.
"1234.50")}.
"""

PARAMS = {"day": "2025-12-31"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute"), ("advance", "5 minutes")]


def _records() -> list[list[dict[str, str]]]:
    pages = []
    n = 0
    for size in (7, 7, 7, 5):
        page = []
        for _ in range(size):
            n += 1
            page.append({"id": f"p{n:03d}", "amount": f"{n * 3}.{(n * 37) % 100:02d}",
                         "currency": "EUR",
                         "status": "cancelled" if n % 6 == 0 else "settled"})
        pages.append(page)
    return pages


PAGES = _records()


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(loads=[])

    def source_page(cursor: str | None) -> dict:
        """One page of payment records.

        Pass None for the first page, then the previous page's "next". Returns
        {"records": [{"id": str, "amount": str, "currency": str, "status": str}],
        "next": str or None}. Raises TimeoutError now and then; retrying helps.
        """
        index = 0 if cursor is None else int(cursor.removeprefix("cur-"))
        if rec.call("source.page", cursor) == 1 and index == 2:
            raise TimeoutError("source API timed out")
        nxt = f"cur-{index + 1}" if index + 1 < len(PAGES) else None
        return {"records": [dict(r) for r in PAGES[index]], "next": nxt}

    def warehouse_load(rows: list, batch_number: int, idempotency_key: str = "") -> dict:
        """Insert rows [{"id": str, "amount_cents": int}] into the payments table.

        Returns {"loaded": int}.
        """
        rec.call("warehouse.load", batch_number)
        rec.once("loads", idempotency_key, {"batch": batch_number, "rows": list(rows)})
        return {"loaded": len(rows)}

    return {"source.page": source_page, "warehouse.load": warehouse_load}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    records = [r for page in PAGES for r in page]
    rows = [{"id": r["id"], "amount_cents": int(Decimal(r["amount"]) * 100)}
            for r in records if r["status"] == "settled"]
    batches = [rows[i:i + 10] for i in range(0, len(rows), 10)]
    total = sum((Decimal(r["amount_cents"]) for r in rows), Decimal(0)) / 100
    assert output == {"pages": 4, "extracted": len(records), "loaded": len(rows),
                      "batches": len(batches), "total": f"{total:.2f}"}, output
    assert sorted(state["loads"], key=lambda x: x["batch"]) == [
        {"batch": i + 1, "rows": b} for i, b in enumerate(batches)], state["loads"]
