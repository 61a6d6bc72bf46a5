# expect: ADP401 line 6
"""Start a step and forget to await it."""


async def run(event, step):
    pending = step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    print("loading")
    return {"order": event.payload["id"]}
