# expect: ADP313 line 10
"""Compare a measured angle with pi."""

import math


async def run(event, step):
    angle = await step.do("measure", lambda: tools.sensors.angle(event.payload["id"]))
    match angle:
        case math.pi:
            return {"half_turn": True}
        case _:
            return {"half_turn": False}
