# expect: ADP306 line 7
"""Stream the feed."""


async def run(event, step):
    count = 0
    async for item in event.payload["feed"]:
        count += 1
    return {"count": count}
