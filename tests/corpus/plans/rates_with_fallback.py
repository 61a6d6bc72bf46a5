"""Convert an amount between currencies with a live rate, falling back to a second provider.

The flaky primary provider is retried 3 times (after 2, 4 and 8 seconds). If it is
still down, the secondary provider's rate is used. The amount times the rate is rounded
to 2 decimals, half up.

Params: {"base": str, "quote": str, "amount": str}
Events: none
Tools: fx.primary, fx.secondary
"""

from decimal import ROUND_HALF_UP, Decimal

PRIMARY_RETRIES = {"limit": 3, "delay": "2 seconds", "backoff": "exponential"}


async def run(event, step):
    base = event.payload["base"]
    quote = event.payload["quote"]
    amount = Decimal(str(event.payload["amount"]))

    try:
        rate = await step.do(f"primary rate {base}->{quote}",
                             lambda: tools.fx.primary(base, quote),
                             retries=PRIMARY_RETRIES)
        source = "primary"
    except StepFailed as err:
        # The failure is saved, so a replay takes this same branch.
        print(f"primary provider gave up: {err.cause}: {err.message}")
        rate = await step.do(f"secondary rate {base}->{quote}",
                             lambda: tools.fx.secondary(base, quote))
        source = "secondary"

    converted = (amount * Decimal(str(rate))).quantize(Decimal("0.01"),
                                                       rounding=ROUND_HALF_UP)

    return {"rate": rate, "source": source, "converted": str(converted)}
