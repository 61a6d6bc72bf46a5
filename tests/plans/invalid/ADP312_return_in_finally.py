# expect: ADP312 line 12
"""Charge the card and always report back."""


async def run(event, step):
    receipt = None
    try:
        receipt = await step.do("charge", lambda ctx: tools.billing.charge(
            event.payload["customer"], ctx.idempotency_key))
    finally:
        print("charge attempted")
        return {"receipt": receipt}
