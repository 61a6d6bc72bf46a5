# expect: ADP302 line 7
"""Split the items into pages."""


def pages(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def run(event, step):
    count = 0
    for page in pages(event.payload["items"], 10):
        count += 1
    return {"pages": count}
