# expect: ADP403 line 6
"""Wait a while before the follow-up."""


async def run(event, step):
    await step.sleep("wait for the courier", "5 fortnights")
    return {"done": True}
