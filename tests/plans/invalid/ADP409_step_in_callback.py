# expect: ADP409 line 7
"""Load an order and its invoice."""


async def run(event, step):
    async def load(ctx):
        order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
        return {"order": order, "invoice": await tools.invoices.get(order["id"])}

    return await step.do("load all", load)
