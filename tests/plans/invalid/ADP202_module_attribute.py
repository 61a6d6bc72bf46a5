# expect: ADP202 line 8
"""Decode the raw payload."""

import json


async def run(event, step):
    decoder = json.decoder
    return {"data": decoder.JSONDecoder().decode(event.payload["raw"])}
