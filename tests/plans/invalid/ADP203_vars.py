# expect: ADP203 line 7
"""Dump the local variables for debugging."""


async def run(event, step):
    total = sum(event.payload["amounts"])
    print(vars())
    return {"total": total}
