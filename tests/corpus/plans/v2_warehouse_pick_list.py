"""Build the pick list for a warehouse wave.

Loads the orders ready to pick, looks up the storage bin of every distinct SKU in one
catalog call, totals each SKU's quantity over all orders and creates one pick list with
a row per SKU, sorted by bin and then by SKU.

Params: {"warehouse": str}
Events: none
Tools: orders.ready, catalog.bins, picking.create_list
"""


async def run(event, step):
    warehouse = event.payload["warehouse"]

    orders = await step.do(f"orders ready in {warehouse}",
                           lambda: tools.orders.ready(warehouse))
    order_ids = [o["order_id"] for o in orders]

    totals = {}
    for order in orders:
        for line in order.get("lines", []):
            sku = line["sku"]
            totals[sku] = totals.get(sku, 0) + int(line["qty"])

    skus = list(totals)
    bins = {}
    if skus:
        bins = await step.do("look up bins", lambda: tools.catalog.bins(skus))

    rows = [{"bin": str(bins.get(sku, "")), "sku": sku, "qty": qty}
            for sku, qty in totals.items()]
    rows.sort(key=lambda r: (r["bin"], r["sku"]))

    created = await step.do(f"create pick list for {warehouse}",
                            lambda ctx: tools.picking.create_list(warehouse, rows,
                                                                  ctx.idempotency_key))

    return {"list_id": created["list_id"], "rows": rows, "orders": order_ids}
