# expect: ADP405 line 7
"""Charge with retries."""


async def run(event, step):
    receipt = await step.do("charge", lambda: tools.billing.charge(event.payload["id"]),
                            retries={"max_attempts": 3})
    return {"receipt": receipt}
