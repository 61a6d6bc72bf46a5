# expect: ADP308 line 7
"""Pad the report columns."""


async def run(event, step):
    width = event.payload["width"]
    line = f"{event.payload['name']:>{width}}"
    return {"line": line}
