"""Watch competitors' prices for a product for a few hours; reprice if we are too expensive.

Polls competitor prices 4 times an hour apart and keeps each poll's lowest price. The
market price is the exact decimal median of those lows. If our price is more than 5%
above the market, it becomes the market price rounded to cents (half up) minus 0.01.

Params: {"sku": str}
Events: none
Tools: prices.competitors, catalog.get, catalog.set_price
"""

from decimal import ROUND_HALF_UP, Decimal

POLLS = 4
POLL_INTERVAL = "1 hour"
TOLERANCE = Decimal("1.05")
CENT = Decimal("0.01")


def exact_median(values):
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    if n % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


async def run(event, step):
    sku = event.payload["sku"]

    lowest = []
    for poll in range(1, POLLS + 1):
        if poll > 1:
            await step.sleep(f"wait before poll {poll}", POLL_INTERVAL)
        prices = await step.do(f"poll competitors {poll}",
                               lambda: tools.prices.competitors(sku))
        if not prices:
            print(f"poll {poll}: no competitor prices for {sku}")
            continue
        # Keep the lowest price as returned (its original string).
        low = min(prices, key=lambda p: Decimal(str(p)))
        lowest.append(low)

    if not lowest:
        raise NonRetryableError(f"no competitor prices for {sku} in {POLLS} polls")

    market = exact_median([Decimal(str(p)) for p in lowest])
    market_cents = market.quantize(CENT, rounding=ROUND_HALF_UP)

    entry = await step.do("read our price", lambda: tools.catalog.get(sku))
    old_price = entry["price"]
    ours = Decimal(str(old_price))

    new_price = None
    if ours > market * TOLERANCE:
        new_price = str(market_cents - CENT)
        await step.do("set new price", lambda: tools.catalog.set_price(sku, new_price))

    return {"sku": sku, "lowest": lowest, "market": str(market_cents),
            "old_price": old_price, "new_price": new_price, "changed": new_price is not None}
