# expect: ADP306 line 6
"""Hold a lock while charging."""


async def run(event, step):
    async with event.payload["lock"]:
        await step.do("charge", lambda: tools.billing.charge(event.payload["id"]))
    return {"charged": True}
