# expect: ADP204 line 7
"""Look at the class of the order."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    kind = getattr(order, "__class__")
    return {"kind": str(kind)}
