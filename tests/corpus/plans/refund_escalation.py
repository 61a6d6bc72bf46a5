"""Decide a customer's refund: auto-approve small amounts, escalate large ones to humans.

Amounts up to 50.00 (compared as decimals) are approved automatically. Larger ones go
to the agent queue; an agent has 24 hours to send a "refund-decision" event at level
"agent" for this refund. Without one the request is escalated to the supervisor queue
for another 24 hours; silence there denies it automatically. An approved refund is paid
exactly once (idempotency key), and the customer gets one email with the outcome.

Params: {"refund_id": str, "amount": str (decimal), "email": str}
Events: "refund-decision" with payload {"refund_id": str, "level": "agent" | "supervisor",
        "approved": bool}
Tools: queue.post, payments.refund, email.send
"""

from decimal import Decimal

AUTO_APPROVE_LIMIT = Decimal("50.00")
DECISION_WINDOW = "24 hours"


async def run(event, step):
    refund_id = event.payload["refund_id"]
    amount = str(event.payload["amount"])
    email = event.payload["email"]

    approved = False
    decided_by = None

    if Decimal(amount) <= AUTO_APPROVE_LIMIT:
        approved, decided_by = True, "auto"
    else:
        for level in ("agent", "supervisor"):
            await step.do(f"post to {level} queue",
                          lambda level=level: tools.queue.post(level, refund_id, amount))
            try:
                decision = await step.wait_for_event(
                    f"{level} decision", type="refund-decision", timeout=DECISION_WINDOW,
                    match={"refund_id": refund_id, "level": level})
            except EventTimeout:
                print(f"no {level} decision on {refund_id} within {DECISION_WINDOW}")
                continue
            approved = decision["payload"].get("approved") is True
            decided_by = level
            break
        if decided_by is None:
            approved, decided_by = False, "timeout"

    refunded = None
    if approved:
        await step.do(f"refund {refund_id}", lambda ctx: tools.payments.refund(
            refund_id, amount, ctx.idempotency_key))
        refunded = amount
        subject = f"Your refund {refund_id} was approved"
        body = f"We have refunded {amount} to you for request {refund_id}."
    else:
        subject = f"Your refund {refund_id} was declined"
        body = f"Sorry, your refund request {refund_id} for {amount} was not approved."

    await step.do("email customer", lambda: tools.email.send(email, subject, body))

    return {"refund_id": refund_id, "approved": approved, "decided_by": decided_by,
            "refunded": refunded}
