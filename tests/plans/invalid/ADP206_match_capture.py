# expect: ADP206 line 8
"""Capture the order status under a reserved name."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    match order:
        case {"status": _status}:
            return {"status": "known"}
    return {"status": "unknown"}
