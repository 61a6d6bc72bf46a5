# expect: ADP206 line 7
"""Use the first non-empty batch."""


async def run(event, step):
    rows = await step.do("extract", lambda: tools.warehouse.extract("orders", 0))
    if (_count := len(rows)) > 0:
        print(f"{len(rows)} rows")
    return {"rows": len(rows)}
