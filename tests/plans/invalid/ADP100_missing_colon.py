# expect: ADP100 line 5
"""Remind a customer about an unpaid invoice."""


async def run(event, step)
    invoice = await step.do("load invoice", lambda: tools.invoices.get(event.payload["id"]))
    return {"invoice": invoice["id"]}
