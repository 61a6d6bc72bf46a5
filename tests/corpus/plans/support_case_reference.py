"""Open a support case under a fresh UUID reference and email the customer about it.

The reference comes from step.uuid(), which is recorded, so a replay reuses the same
reference. The case is created once (idempotency key), then the plan waits 10 minutes
for the case system to index it and emails the customer the reference.

Params: {"customer": str, "email": str}
Events: none
Tools: cases.create, email.send
"""

INDEX_WAIT = "10 minutes"


async def run(event, step):
    customer = event.payload["customer"]
    email = event.payload["email"]

    reference = await step.uuid()

    case = await step.do(f"create case {reference}", lambda ctx: tools.cases.create(
        customer, reference, ctx.idempotency_key))
    case_id = case["case_id"]

    await step.sleep("let the case system index the case", INDEX_WAIT)

    subject = f"Your support case {reference}"
    body = (f"Hello,\n\nwe have opened a support case for you (case {case_id}).\n"
            f"Your reference is {reference}. Please quote it when you contact us.\n")
    await step.do("email customer", lambda: tools.email.send(email, subject, body))

    return {"reference": reference, "case_id": case_id}
