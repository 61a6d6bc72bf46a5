"""Hard: per-customer multi-step helpers gathered in parallel, Decimal LTV, ranking."""

from __future__ import annotations

from typing import Any

import anyio

from tests.corpus.tasks._kit import Recorder

TASK = """\
Build a customer lifetime-value ranking.

For every customer id in `customers`, in parallel:
1. `crm.profile(customer_id)` -> {"name": str, "since": "YYYY-MM-DD"}.
2. `shop.orders(customer_id)` -> a list of {"total": str (decimal), "refunded": bool}.
3. LTV = the exact decimal sum of the totals of orders that were not refunded.
   Tier: "gold" if LTV >= 1000, "silver" if >= 250, else "bronze".

Then rank the customers by LTV, highest first (ties: customer id ascending), and save
the ranking once with `reports.save(name, rows)`, name exactly "ltv-ranking", rows the
list described below.

Params (`event.payload`): {"customers": ["c1", "c2", "c3", "c4"]}.
No events arrive.

Return: {"rows": [{"customer_id": str, "name": str, "ltv": str (2 decimals), "tier":
str}, ...] (ranked), "total_ltv": str (2 decimals)}.
"""

PARAMS = {"customers": ["c1", "c2", "c3", "c4"]}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
PROFILES = {"c1": "Ana", "c2": "Ben", "c3": "Cleo", "c4": "Dev"}
ORDERS = {
    "c1": [("120.00", False), ("130.50", False), ("99.99", True)],
    "c2": [("999.99", False), ("0.01", False), ("15.00", False)],
    "c3": [],
    "c4": [("250.50", False), ("0.00", False)],
}


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(reports=[])

    async def crm_profile(customer_id: str) -> dict:
        """A customer's profile. Returns {"name": str, "since": str (YYYY-MM-DD)}."""
        rec.call("crm.profile", customer_id)
        await anyio.sleep(0.01)
        return {"name": PROFILES[customer_id], "since": "2023-04-01"}

    async def shop_orders(customer_id: str) -> list:
        """A customer's orders: a list of {"total": str, "refunded": bool}."""
        rec.call("shop.orders", customer_id)
        await anyio.sleep(0.01 if customer_id != "c2" else 0.03)
        return [{"total": t, "refunded": r} for t, r in ORDERS[customer_id]]

    def reports_save(name: str, rows: list) -> dict:
        """Save a report table under a name. Returns {"url": str}."""
        rec.call("reports.save", name)
        rec.add("reports", {"name": name, "rows": list(rows)})
        return {"url": f"https://bi.example/{name}"}

    return {"crm.profile": crm_profile, "shop.orders": shop_orders,
            "reports.save": reports_save}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    rows = [{"customer_id": "c2", "name": "Ben", "ltv": "1015.00", "tier": "gold"},
            {"customer_id": "c1", "name": "Ana", "ltv": "250.50", "tier": "silver"},
            {"customer_id": "c4", "name": "Dev", "ltv": "250.50", "tier": "silver"},
            {"customer_id": "c3", "name": "Cleo", "ltv": "0.00", "tier": "bronze"}]
    assert output == {"rows": rows, "total_ltv": "1516.00"}, output
    assert state["reports"] == [{"name": "ltv-ranking", "rows": rows}], state["reports"]
