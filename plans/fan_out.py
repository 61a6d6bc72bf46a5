"""Ask three carriers for a shipping quote at once, then book the cheapest.

The quotes are independent, so they run concurrently; each is its own checkpoint, so
after a restart only the quotes that had not finished are asked again.

Params: {"order_id": int, "weight_kg": number, "destination": str (ISO country code)}
Tools: shipping.quote, shipping.book
"""


async def run(event, step):
    order_id = event.payload["order_id"]
    weight = event.payload["weight_kg"]
    destination = event.payload["destination"]

    # A carrier that does not answer in 30 seconds is retried rather than waited on.
    quotes = await step.gather(
        step.do("quote parcelpost",
                lambda: tools.shipping.quote("parcelpost", weight, destination),
                timeout="30 seconds"),
        step.do("quote swiftship",
                lambda: tools.shipping.quote("swiftship", weight, destination),
                timeout="30 seconds"),
        step.do("quote cargoline",
                lambda: tools.shipping.quote("cargoline", weight, destination),
                timeout="30 seconds"),
    )

    # Cheapest wins; on a price tie the faster carrier wins.
    best = min(quotes, key=lambda q: (q["price_cents"], q["days"]))
    print(f"best of {len(quotes)} quotes: {best['carrier']} at {best['price_cents']} cents")

    booking = await step.do("book carrier", lambda ctx: tools.shipping.book(
        best["carrier"], order_id, ctx.idempotency_key))

    return {
        "order": order_id,
        "carrier": best["carrier"],
        "price_cents": best["price_cents"],
        "booking": booking["booking_id"],
        "quotes": {q["carrier"]: q["price_cents"] for q in quotes},
    }
