# expect: ADP403 line 7
"""Wait a moment between polls."""


async def run(event, step):
    for attempt in range(3):
        await step.sleep(f"pause {attempt}", "500ms")
    return {"polled": 3}
