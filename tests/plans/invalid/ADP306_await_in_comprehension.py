# expect: ADP306 line 7
"""Load every order in the list."""


async def run(event, step):
    ids = event.payload["ids"]
    orders = [await step.do(f"load {i}", lambda: tools.orders.get(i)) for i in ids]
    return {"orders": orders}
