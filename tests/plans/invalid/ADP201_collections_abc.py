# expect: ADP201 line 4
"""Check that the payload is a mapping."""

from collections.abc import Mapping


async def run(event, step):
    return {"is_mapping": isinstance(event.payload, Mapping)}
