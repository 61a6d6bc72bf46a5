# expect: ADP203 line 7
"""Append the order to a local log file."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    handle = open("orders.log", "a")
    handle.write(str(order))
    return {"logged": True}
