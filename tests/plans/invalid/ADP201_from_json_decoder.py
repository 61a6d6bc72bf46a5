# expect: ADP201 line 4
"""Parse the payload with a custom decoder."""

from json.decoder import JSONDecoder


async def run(event, step):
    data = JSONDecoder().decode(event.payload["raw"])
    return {"keys": sorted(data)}
