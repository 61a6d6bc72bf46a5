# expect: ADP401 line 11
"""Notify the customer with a step function, but drop the call."""


async def run(event, step):
    @step.do("notify customer")
    async def notify(ctx):
        return await tools.notify.send(event.payload["to"], "shipped", ctx.idempotency_key)

    await step.sleep("wait for the courier", "1 hour")
    notify()
    return {"notified": True}
