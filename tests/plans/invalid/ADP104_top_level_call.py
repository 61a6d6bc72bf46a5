# expect: ADP104 line 4
"""Announce the plan when it loads."""

print("loading the follow-up plan")


async def run(event, step):
    await step.sleep("wait a day", "1 day")
    return {"done": True}
