# expect: ADP203 line 6
"""Shard customers by name."""


async def run(event, step):
    shard = hash(event.payload["customer"]) % 16
    await step.do("route", lambda: tools.router.assign(event.payload["customer"], shard))
    return {"shard": shard}
