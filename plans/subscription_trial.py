"""Run a 14-day free trial: welcome, remind, then charge at the end or downgrade.

11 days to add a card, then one reminder and 3 more days. With a card on file, charge
at the exact end of the trial; a declined card is not retried, it downgrades to free.

Params: {"customer": str, "email": str, "plan": str, "price_cents": int}
Events: "payment-method-added" with payload {"card_last4": str} (sent by the billing UI)
Tools: notify.send, billing.charge, accounts.set_plan
"""

from datetime import timedelta


async def run(event, step):
    customer, email = event.payload["customer"], event.payload["email"]
    plan, price = event.payload["plan"], event.payload["price_cents"]
    trial_ends = event.timestamp + timedelta(days=14)

    await step.do("welcome", lambda ctx: tools.notify.send(
        email, f"Your {plan} trial runs until {trial_ends.date().isoformat()}.",
        ctx.idempotency_key))

    reminded = False
    try:
        card = await step.wait_for_event("card added", type="payment-method-added",
                                         timeout="11 days")
    except EventTimeout:
        reminded = True
        await step.do("remind", lambda ctx: tools.notify.send(
            email, f"Your {plan} trial ends in 3 days. Add a card to keep it.",
            ctx.idempotency_key))
        try:
            card = await step.wait_for_event("card added after reminder",
                                             type="payment-method-added", timeout="3 days")
        except EventTimeout:
            card = None
    charged = 0
    if card is not None:
        # Charge at the real end of the trial, not when the card arrives.
        await step.sleep_until("trial ends", trial_ends.isoformat())

        async def charge(ctx):
            last4 = card["payload"]["card_last4"]
            result = await tools.billing.charge(customer, price, last4, ctx.idempotency_key)
            if result["status"] == "declined":
                # Retrying a declined card only annoys the bank: fail the step now.
                raise NonRetryableError(f"card ending {last4} declined: {result['reason']}")
            return result

        try:
            await step.do("charge first month", charge,
                          retries={"limit": 3, "delay": "1 minute", "backoff": "exponential"})
            charged = price
        except StepFailed as err:
            print(f"charging {customer} failed: {err.message}")

    final_plan = plan if charged else "free"
    await step.do("set plan", lambda: tools.accounts.set_plan(customer, final_plan))
    await step.do("tell customer", lambda ctx: tools.notify.send(
        email, f"You are now on the {final_plan} plan.", ctx.idempotency_key))
    return {"customer": customer, "plan": final_plan, "charged_cents": charged,
            "reminded": reminded}
