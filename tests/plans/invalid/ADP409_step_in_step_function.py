# expect: ADP409 line 8
"""Charge, then wait a moment, all inside one step function."""


async def run(event, step):
    @step.do("charge")
    async def charge(ctx):
        await step.sleep("settle", "10 seconds")
        return await tools.billing.charge(event.payload["customer"], ctx.idempotency_key)

    return await charge()
