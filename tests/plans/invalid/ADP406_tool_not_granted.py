# expect: ADP406 line 8
# tools: orders.get, search
"""Refund the order."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    await step.do("refund", lambda: tools.payments.refund(order["id"]))
    return {"refunded": order["id"]}
