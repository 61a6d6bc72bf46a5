# expect: ADP307 line 6
"""Stamp the result with the recorded time."""


def stamp(step, result):
    result["at"] = await step.now()
    return result


async def run(event, step):
    return stamp(step, {"order": event.payload["id"]})
