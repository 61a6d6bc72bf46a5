# expect: ADP311 line 7
"""Route the order by status."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    match order["status"]:
        case "shipped":
            return {"action": "wait"}
        case _:
            return {"action": "escalate"}
