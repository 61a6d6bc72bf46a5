# expect: ADP104 line 5
"""Pick a retry budget at load time."""

RETRIES = 3
if RETRIES > 2:
    RETRIES = 2


async def run(event, step):
    result = await step.do("fetch", lambda: tools.feed.latest("news"),
                           retries={"limit": RETRIES})
    return {"count": len(result)}
