# expect: ADP204 line 7
"""Copy fields onto the event."""


async def run(event, step):
    for key, value in event.payload.items():
        setattr(event, key, value)
    return {"copied": len(event.payload)}
