# expect: ADP408 line 6
"""Wait for the customer's reply."""


async def run(event, step):
    reply = await step.wait_for_event("customer-reply", timeout="2 days")
    return {"reply": reply["payload"]}
