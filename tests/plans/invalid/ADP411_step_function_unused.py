# expect: ADP411 warning line 7
"""Define a notification step but never send it."""


async def run(event, step):
    @step.do("notify")
    async def notify(ctx):
        return await tools.notify.send(event.payload["to"], "hi", ctx.idempotency_key)

    await step.sleep("wait", "1 hour")
    return {"sent": False}
