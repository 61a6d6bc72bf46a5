# expect: ADP401 line 6
"""Send a notification and forget about it."""


async def run(event, step):
    step.do("notify", lambda: tools.notify.send(event.payload["to"], "hi"))
    return {"sent": True}
