# expect: ADP403 line 7
"""Wait for the customer's reply."""


async def run(event, step):
    reply = await step.wait_for_event("reply", type="customer-reply",
                                      timeout="5 dayz")
    return {"reply": reply["payload"]}
