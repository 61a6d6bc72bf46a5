# expect: ADP407 line 7
# tools: orders.get
"""Load the order without a step."""


async def run(event, step):
    order = await tools.orders.get(event.payload["id"])
    await step.sleep("wait", "1 day")
    return {"order": order["id"]}
