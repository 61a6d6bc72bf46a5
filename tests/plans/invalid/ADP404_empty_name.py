# expect: ADP404 line 6
"""Load the order."""


async def run(event, step):
    order = await step.do("", lambda: tools.orders.get(event.payload["id"]))
    return {"order": order["id"]}
