# expect: ADP310 line 6
"""Use a context manager around the charge."""


async def run(event, step):
    with event.payload["lock"]:
        await step.do("charge", lambda: tools.billing.charge(event.payload["id"]))
    return {"charged": True}
