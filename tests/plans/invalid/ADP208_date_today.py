# expect: ADP208 line 8
"""Only run on weekdays."""

from datetime import date


async def run(event, step):
    if date.today().weekday() >= 5:
        return {"skipped": True}
    await step.do("send digest", lambda: tools.notify.send(event.payload["to"], "digest"))
    return {"skipped": False}
