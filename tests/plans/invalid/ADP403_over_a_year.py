# expect: ADP403 line 6
"""Wait before the renewal."""


async def run(event, step):
    await step.sleep("until renewal", "400 days")
    return {"renew": True}
