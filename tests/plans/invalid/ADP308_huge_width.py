# expect: ADP308 line 6
"""Pad the report."""


async def run(event, step):
    line = f"{event.payload['name']:>100000}"
    return {"line": line}
