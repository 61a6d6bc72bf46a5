# expect: ADP104 line 6
"""Wait a computed delay."""

from datetime import timedelta

DELAY = timedelta(days=2)


async def run(event, step):
    await step.sleep("wait", DELAY)
    return {"waited": True}
