# expect: ADP201 line 4
"""Read a config value from the environment."""

import os


async def run(event, step):
    region = os.environ.get("REGION", "eu")
    await step.do("notify", lambda: tools.notify.send(event.payload["to"], region))
    return {"region": region}
