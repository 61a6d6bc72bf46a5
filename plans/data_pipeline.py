"""Copy a day's orders into the warehouse, batch by batch.

Each batch is extracted, transformed and loaded as separate checkpoints, so a crash in
batch 3 resumes at batch 3 without reading batches 0-2 again. Refunded orders are
dropped; amounts become integer cents. Stops early when the source runs out.

Params: {"source": str, "table": str, "batches": int (at most 50)}
Tools: warehouse.extract, warehouse.load
"""

from decimal import Decimal

MAX_BATCHES = 50


def transform(rows):
    """Drop refunds, normalize customer names, turn decimal amounts into cents."""
    clean = []
    for row in rows:
        if row["status"] == "refunded":
            continue
        clean.append({
            "order_id": row["id"],
            "customer": row["customer"].strip().lower(),
            "amount_cents": int(Decimal(row["amount"]) * 100),
        })
    return clean


async def run(event, step):
    source = event.payload["source"]
    table = event.payload["table"]
    batches = min(event.payload.get("batches", 1), MAX_BATCHES)

    processed = 0
    loaded = 0
    skipped = 0
    revenue_cents = 0
    for i in range(batches):
        rows = await step.do(f"extract batch {i}", lambda: tools.warehouse.extract(source, i))
        if not rows:
            print(f"{source} has no batch {i}; stopping")
            break
        # Pure computation, but checkpointed too: the journal shows what was loaded.
        clean = await step.do(f"transform batch {i}", lambda: transform(rows))
        if clean:
            # The idempotency key turns a repeated load (a retry after a lost reply) into
            # a no-op on the warehouse side.
            receipt = await step.do(f"load batch {i}", lambda ctx: tools.warehouse.load(
                table, clean, ctx.idempotency_key),
                retries={"limit": 5, "delay": "10 seconds", "backoff": "linear"})
            loaded += receipt["loaded"]
        processed += 1
        skipped += len(rows) - len(clean)
        revenue_cents += sum([row["amount_cents"] for row in clean])

    revenue = Decimal(revenue_cents) / 100
    return {"source": source, "table": table, "batches": processed, "rows_loaded": loaded,
            "rows_skipped": skipped, "revenue": f"{revenue:.2f}"}
