# expect: ADP313 line 8
"""Route a parsed order by its shape."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    match order:
        case Order(status="shipped"):
            return {"action": "wait"}
        case _:
            return {"action": "escalate"}
