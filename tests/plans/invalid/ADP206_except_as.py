# expect: ADP206 line 8
"""Charge the card, falling back to an invoice."""


async def run(event, step):
    try:
        receipt = await step.do("charge", lambda: tools.billing.charge(event.payload["id"]))
    except StepFailed as _error:
        receipt = await step.do("invoice", lambda: tools.billing.invoice(event.payload["id"]))
    return {"receipt": receipt}
