# expect: ADP203 line 7
"""Tag the result with a unique number."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    return {"order": order["id"], "tag": id(order)}
