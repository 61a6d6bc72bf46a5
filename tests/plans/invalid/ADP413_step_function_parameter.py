# expect: ADP413 warning line 7
"""Charge the customer with a step function."""


async def run(event, step):
    @step.do("charge")
    async def charge(context):
        return await tools.billing.charge(event.payload["customer"], context.idempotency_key)

    return await charge()
