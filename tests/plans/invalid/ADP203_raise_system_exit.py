# expect: ADP203 line 8
"""Stop the plan when the order was cancelled."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    if order["status"] == "cancelled":
        raise SystemExit("cancelled")
    return {"order": order["id"]}
