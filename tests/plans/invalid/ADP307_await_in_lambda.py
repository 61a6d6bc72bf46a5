# expect: ADP307 line 6
"""Load the order through a lambda."""


async def run(event, step):
    load = lambda: await tools.orders.get(event.payload["id"])
    order = await step.do("load order", load)
    return {"order": order["id"]}
