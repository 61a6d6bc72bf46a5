# expect: ADP205 line 6
"""Build a record type on the fly."""


async def run(event, step):
    record = type("Record", (), {"id": event.payload["id"]})
    return {"id": record.id}
