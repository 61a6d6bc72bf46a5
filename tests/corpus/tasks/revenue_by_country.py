"""Medium: join two sources, Decimal revenue per country, sorted report."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Build the monthly revenue-by-country report.

1. Load users with `users.all()`: [{"id": int, "country": str}] and orders with
   `orders.all(month)`: [{"id": str, "user_id": int, "amount": str (decimal), "status":
   "paid" | "refunded" | "pending"}].
2. Only "paid" orders count. Each order's country is its user's country; an order
   whose user_id is not in the users list counts under country "unknown".
3. Per country: number of paid orders and revenue (exact decimal sum).
4. Rows sorted by revenue, highest first; ties by country code alphabetically.
5. Save it with `reports.save(name, rows)`, name exactly "revenue-<month>", rows the
   list of row dicts below.

Params (`event.payload`): {"month": "2025-12"}.
No events arrive.

Return: {"month": str, "rows": [{"country": str, "orders": int, "revenue": str (2
decimals)}, ...], "total": str (2 decimals)}.
"""

PARAMS = {"month": "2025-12"}
SCENARIO: list[tuple[Any, ...]] = []
USERS = [{"id": 1, "country": "NL"}, {"id": 2, "country": "DE"}, {"id": 3, "country": "NL"},
         {"id": 4, "country": "FR"}, {"id": 5, "country": "DE"}]
ORDERS = [
    {"id": "o1", "user_id": 1, "amount": "19.90", "status": "paid"},
    {"id": "o2", "user_id": 2, "amount": "100.00", "status": "paid"},
    {"id": "o3", "user_id": 3, "amount": "5.05", "status": "paid"},
    {"id": "o4", "user_id": 4, "amount": "75.00", "status": "refunded"},
    {"id": "o5", "user_id": 5, "amount": "24.95", "status": "paid"},
    {"id": "o6", "user_id": 9, "amount": "12.00", "status": "paid"},
    {"id": "o7", "user_id": 1, "amount": "99.95", "status": "paid"},
    {"id": "o8", "user_id": 4, "amount": "12.00", "status": "paid"},
    {"id": "o9", "user_id": 3, "amount": "8.00", "status": "pending"},
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(reports=[])

    def users_all() -> list:
        """Every user: a list of {"id": int, "country": str (ISO code)}."""
        rec.call("users.all")
        return [dict(u) for u in USERS]

    def orders_all(month: str) -> list:
        """Orders of a month ("YYYY-MM").

        A list of {"id": str, "user_id": int, "amount": str, "status": str}.
        """
        rec.call("orders.all", month)
        return [dict(o) for o in ORDERS]

    def reports_save(name: str, rows: list) -> dict:
        """Save a report table under a name. Returns {"url": str}."""
        rec.call("reports.save", name)
        rec.add("reports", {"name": name, "rows": list(rows)})
        return {"url": f"https://bi.example/{name}"}

    return {"users.all": users_all, "orders.all": orders_all,
            "reports.save": reports_save}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    rows = [{"country": "NL", "orders": 3, "revenue": "124.90"},
            {"country": "DE", "orders": 2, "revenue": "124.95"},
            {"country": "FR", "orders": 1, "revenue": "12.00"},
            {"country": "unknown", "orders": 1, "revenue": "12.00"}]
    rows = sorted(rows, key=lambda r: (-float(r["revenue"]), r["country"]))
    assert output == {"month": "2025-12", "rows": rows, "total": "273.85"}, output
    assert state["reports"] == [{"name": "revenue-2025-12", "rows": rows}], state["reports"]
