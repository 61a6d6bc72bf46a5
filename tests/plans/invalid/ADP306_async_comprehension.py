# expect: ADP306 line 6
"""Collect items from an async source."""


async def run(event, step):
    items = [item async for item in event.payload["source"]]
    return {"count": len(items)}
