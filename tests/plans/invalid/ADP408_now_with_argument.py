# expect: ADP408 line 6
"""Record the start time."""


async def run(event, step):
    started = await step.now("started")
    return {"started": started}
