# expect: ADP206 line 6
"""Remember the raw order."""


async def run(event, step):
    _raw = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    return {"order": _raw["id"]}
