# expect: ADP309 line 6
"""Sum the amounts."""


async def run(event, step):
    total: int = 0
    for amount in event.payload["amounts"]:
        total += amount
    return {"total": total}
