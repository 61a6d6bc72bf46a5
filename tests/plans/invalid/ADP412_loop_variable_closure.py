# expect: ADP412 warning line 8
"""Quote every carrier at once."""


async def run(event, step):
    calls = []
    for carrier in event.payload["carriers"]:
        calls.append(step.do(f"quote {carrier}", lambda: tools.shipping.quote(carrier)))
    quotes = await step.gather(*calls)
    return {"cheapest": min(q["price"] for q in quotes)}
