# expect: ADP204 line 8
"""Read a field chosen by the caller."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    when = order["created"]
    part = getattr(when, event.payload["field"])
    return {"part": part}
