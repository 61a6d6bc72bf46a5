# expect: ADP408 line 6
"""Load the order."""


async def run(event, step):
    order = await step.do("load order")
    return {"order": order}
