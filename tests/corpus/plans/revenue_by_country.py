"""Build the monthly revenue-by-country report and save it as "revenue-<month>".

Only paid orders count. Each order belongs to its user's country ("unknown" for a user
not in the users list). Per country: paid order count and exact decimal revenue, sorted
by revenue (highest first), ties by country code.

Params: {"month": "YYYY-MM"}
Events: none
Tools: users.all, orders.all, reports.save
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value):
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


async def run(event, step):
    month = event.payload["month"]

    async def load_countries():
        users = await tools.users.all()
        # Keep only what the report needs; JSON object keys are strings.
        return {str(user["id"]): user.get("country") for user in users}

    async def load_paid_orders():
        orders = await tools.orders.all(month)
        return [{"user_id": order.get("user_id"), "amount": order["amount"]}
                for order in orders if order.get("status") == "paid"]

    countries, paid = await step.gather(
        step.do("load users", load_countries),
        step.do(f"load orders {month}", load_paid_orders),
    )

    counts = {}
    revenue = {}
    for order in paid:
        country = countries.get(str(order["user_id"])) or "unknown"
        counts[country] = counts.get(country, 0) + 1
        revenue[country] = revenue.get(country, Decimal("0")) + Decimal(str(order["amount"]))

    ordered = sorted(revenue, key=lambda c: (-revenue[c], c))
    rows = [{"country": c, "orders": counts[c], "revenue": money(revenue[c])}
            for c in ordered]
    total = Decimal("0")
    for c in ordered:
        total += revenue[c]

    await step.do("save report", lambda: tools.reports.save(f"revenue-{month}", rows))

    return {"month": month, "rows": rows, "total": money(total)}
