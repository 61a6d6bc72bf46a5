# expect: ADP306 line 7
"""Add up the totals of every order in the list."""


async def run(event, step):
    ids = event.payload["ids"]
    total = sum(await step.do(f"load {i}", lambda i=i: tools.orders.total(i)) for i in ids)
    return {"total": total}
