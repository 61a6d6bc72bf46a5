"""Bill an account for a month's metered usage with one invoice.

Sums usage per metric exactly, prices each metric (api_calls: first 10000 free, then
0.002 each; storage_gb: 0.10 per GB; seats: 12.00 each), rounds each line to cents half
up, and creates one invoice (idempotency key, so a retry cannot bill twice).

Params: {"account_id": str, "month": "YYYY-MM"}
Events: none
Tools: usage.records, invoices.create
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
METRICS = ["api_calls", "storage_gb", "seats"]
FREE_API_CALLS = Decimal("10000")
API_CALL_PRICE = Decimal("0.002")
STORAGE_GB_PRICE = Decimal("0.10")
SEAT_PRICE = Decimal("12.00")


def price(metric, qty):
    if metric == "api_calls":
        billable = qty - FREE_API_CALLS
        if billable < 0:
            billable = Decimal("0")
        amount = billable * API_CALL_PRICE
    elif metric == "storage_gb":
        amount = qty * STORAGE_GB_PRICE
    else:
        amount = qty * SEAT_PRICE
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


async def run(event, step):
    account_id = event.payload["account_id"]
    month = event.payload["month"]

    records = await step.do(f"usage of {account_id} in {month}",
                            lambda: tools.usage.records(account_id, month))

    sums = {}
    for record in records:
        metric = record.get("metric")
        if metric not in METRICS:
            print(f"ignoring unknown metric {metric!r}")
            continue
        qty = Decimal(str(record["qty"]))
        sums[metric] = sums[metric] + qty if metric in sums else qty

    lines = []
    total = Decimal("0.00")
    for metric in METRICS:
        if metric not in sums:
            continue
        amount = price(metric, sums[metric])
        total += amount
        lines.append({"metric": metric, "qty": str(sums[metric]), "amount": str(amount)})
    total_text = str(total.quantize(CENT, rounding=ROUND_HALF_UP))

    invoice = await step.do("create invoice", lambda ctx: tools.invoices.create(
        account_id, lines, total_text, ctx.idempotency_key))
    print(f"invoice {invoice.get('invoice_id')} for {account_id}: {total_text}")

    return {"account_id": account_id, "lines": lines, "total": total_text}
