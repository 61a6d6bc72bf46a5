# expect: ADP403 line 6
"""Wait a negative time."""


async def run(event, step):
    await step.sleep("pause", -30)
    return {"done": True}
