# expect: ADP408 line 6
"""Wait before following up."""


async def run(event, step):
    await step.sleep("2 days")
    return {"followed_up": True}
