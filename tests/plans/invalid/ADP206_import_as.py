# expect: ADP206 line 4
"""Parse the payload."""

import json as _json


async def run(event, step):
    return {"data": _json.loads(event.payload["raw"])}
