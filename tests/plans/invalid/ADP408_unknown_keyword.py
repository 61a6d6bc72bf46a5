# expect: ADP408 line 7
"""Load the order with retries."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]),
                          retry=3)
    return {"order": order["id"]}
