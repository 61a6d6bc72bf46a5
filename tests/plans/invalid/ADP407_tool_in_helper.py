# expect: ADP407 line 6
"""Load the order in a helper that forgot the step."""


async def load(order_id):
    return await tools.orders.get(order_id)


async def run(event, step):
    order = await load(event.payload["id"])
    await step.sleep("wait", "1 day")
    return {"order": order["id"]}
