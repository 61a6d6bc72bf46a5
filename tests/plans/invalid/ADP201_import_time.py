# expect: ADP201 line 4
"""Record when the order was processed."""

import time


async def run(event, step):
    started = time.time()
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    return {"order": order["id"], "started": started}
