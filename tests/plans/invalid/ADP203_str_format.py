# expect: ADP203 line 7
"""Write a summary line for the order."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    line = "Order {} for {}".format(order["id"], order["customer"])
    return {"summary": line}
