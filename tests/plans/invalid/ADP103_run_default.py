# expect: ADP103 line 5
"""Count the items in an order."""


async def run(event, step=None):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    return {"items": len(order["items"])}
