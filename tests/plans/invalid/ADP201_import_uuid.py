# expect: ADP201 line 4
"""Create a reference number for the refund."""

from uuid import uuid4


async def run(event, step):
    reference = str(uuid4())
    await step.do("refund", lambda: tools.payments.refund(event.payload["order"], reference))
    return {"reference": reference}
