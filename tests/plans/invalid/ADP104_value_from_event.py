# expect: ADP104 line 6
"""Wait a delay taken from the params."""

from datetime import timedelta

DELAY = timedelta(days=event.payload["days"])


async def run(event, step):
    await step.sleep("wait", DELAY)
    return {"waited": True}
