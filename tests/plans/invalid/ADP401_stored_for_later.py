# expect: ADP401 line 6
"""Start a step now and await it later."""


async def run(event, step):
    pending = step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    print("loading")
    order = await pending
    return {"order": order["id"]}
