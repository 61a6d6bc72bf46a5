# expect: ADP100 line 8
"""Stop early when there is nothing to do."""


async def run(event, step):
    items = event.payload["items"]
    if not items:
        break
    await step.do("process", lambda: tools.batch.process(items))
    return {"processed": len(items)}
