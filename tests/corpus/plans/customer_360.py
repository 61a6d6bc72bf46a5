"""Build a customer lifetime-value (LTV) ranking and save it as the "ltv-ranking" report.

For every customer, in parallel, loads the CRM profile and the shop orders; LTV is the
exact decimal sum of the totals of orders that were not refunded. Tier: "gold" for
LTV >= 1000, "silver" for >= 250, else "bronze". Customers are ranked by LTV, highest
first (ties by customer id ascending), and the ranking is saved once.

Params: {"customers": [str, ...]}
Events: none
Tools: crm.profile, shop.orders, reports.save
"""

from decimal import Decimal, ROUND_HALF_UP

REPORT_NAME = "ltv-ranking"
CENTS = Decimal("0.01")
GOLD = Decimal("1000")
SILVER = Decimal("250")


def tier_for(ltv):
    if ltv >= GOLD:
        return "gold"
    if ltv >= SILVER:
        return "silver"
    return "bronze"


async def run(event, step):
    customers = event.payload.get("customers", [])

    async def load_customer(customer_id):
        profile, orders = await step.gather(
            step.do(f"profile {customer_id}",
                    lambda: tools.crm.profile(customer_id)),
            step.do(f"orders {customer_id}",
                    lambda: tools.shop.orders(customer_id)),
        )
        ltv = Decimal("0")
        for order in orders:
            if not order.get("refunded"):
                ltv += Decimal(str(order["total"]))
        return {"customer_id": customer_id, "name": profile["name"], "ltv": ltv}

    loaded = await step.gather(*[load_customer(cid) for cid in customers])

    ranked = sorted(loaded, key=lambda c: (-c["ltv"], c["customer_id"]))

    total = Decimal("0")
    rows = []
    for entry in ranked:
        total += entry["ltv"]
        rows.append({
            "customer_id": entry["customer_id"],
            "name": entry["name"],
            "ltv": str(entry["ltv"].quantize(CENTS, rounding=ROUND_HALF_UP)),
            "tier": tier_for(entry["ltv"]),
        })

    saved = await step.do("save ltv ranking", lambda: tools.reports.save(REPORT_NAME, rows))
    print(f"ltv ranking saved: {saved.get('url')}")

    return {"rows": rows, "total_ltv": str(total.quantize(CENTS, rounding=ROUND_HALF_UP))}
