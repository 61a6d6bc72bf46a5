"""Copy yesterday's payments into the warehouse: extract pages, transform, load in batches.

Pages through source.page from a null cursor until "next" is null (each page is its own
step, retried on transient failures). Cancelled records are dropped; the rest become
{"id", "amount_cents"} with the decimal amount times 100 as an exact integer. Rows are
loaded in extraction order in batches of 10, each batch once (idempotency key per batch).

Params: {"day": "YYYY-MM-DD"}
Events: none
Tools: source.page, warehouse.load
"""

from decimal import ROUND_HALF_UP, Decimal

BATCH_SIZE = 10


def to_cents(amount):
    cents = Decimal(str(amount)) * 100
    return int(cents.to_integral_value(rounding=ROUND_HALF_UP))


async def run(event, step):
    day = event.payload.get("day")

    # Extract
    records = []
    pages = 0
    cursor = None
    while True:
        pages += 1
        page = await step.do(f"fetch page {pages}",
                             lambda cursor=cursor: tools.source.page(cursor))
        records.extend(page.get("records") or [])
        cursor = page.get("next")
        if cursor is None:
            break

    # Transform
    rows = []
    for record in records:
        if record.get("status") == "cancelled":
            continue
        rows.append({"id": record["id"], "amount_cents": to_cents(record["amount"])})

    # Load
    loaded = 0
    batches = 0
    total_cents = 0
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start:start + BATCH_SIZE]
        batches += 1
        result = await step.do(
            f"load batch {batches}",
            lambda ctx, batch=batch, number=batches: tools.warehouse.load(
                batch, number, ctx.idempotency_key))
        loaded += result.get("loaded", len(batch))
        for row in batch:
            total_cents += row["amount_cents"]

    total = (Decimal(total_cents) / 100).quantize(Decimal("0.01"))
    print(f"{day}: {pages} pages, {len(records)} records, {loaded} rows in {batches} batches")

    return {"pages": pages, "extracted": len(records), "loaded": loaded,
            "batches": batches, "total": str(total)}
