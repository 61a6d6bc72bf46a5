# expect: ADP202 line 4
"""Round the total up."""

from math import *


async def run(event, step):
    return {"total": ceil(event.payload["total"])}
