# expect: ADP203 line 6
"""Evaluate a pricing formula supplied in the params."""


async def run(event, step):
    price = eval(event.payload["formula"])
    await step.do("save price", lambda: tools.prices.set(event.payload["sku"], price))
    return {"price": price}
