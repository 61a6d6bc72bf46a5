# expect: ADP402 line 6
"""Retry the order load."""


async def run(event, step):
    order = await step.retry("load order", lambda: tools.orders.get(event.payload["id"]))
    return {"order": order["id"]}
