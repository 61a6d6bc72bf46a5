"""Nightly inventory reorder for one warehouse.

Read the warehouse's stock levels once, then place exactly one purchase order (with an
idempotency key) of reorder_qty units for every SKU whose on_hand is strictly below its
reorder point. SKUs at or above their reorder point are skipped.

Params: {"warehouse": str}
Events: none
Tools: inventory.levels, purchasing.order
"""


async def run(event, step):
    warehouse = event.payload["warehouse"]

    levels = await step.do("load stock levels", lambda: tools.inventory.levels(warehouse))

    ordered = []
    skipped = 0
    for item in levels:
        sku = item["sku"]
        if item["on_hand"] >= item["reorder_point"]:
            skipped += 1
            continue
        qty = item["reorder_qty"]
        result = await step.do(f"order {sku}", lambda ctx, sku=sku, qty=qty:
                               tools.purchasing.order(sku, qty, ctx.idempotency_key))
        ordered.append({"sku": sku, "qty": qty, "po": result["po"]})

    return {"warehouse": warehouse, "ordered": ordered, "skipped": skipped}
