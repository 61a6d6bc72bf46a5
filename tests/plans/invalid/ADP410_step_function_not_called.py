# expect: ADP410 line 10
"""Load the order with a step function."""


async def run(event, step):
    @step.do("load order")
    async def load():
        return await tools.orders.get(event.payload["id"])

    order = await load
    return {"order": order["id"]}
