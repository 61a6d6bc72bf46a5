"""Upgrade a subscription mid-period and charge the prorated difference.

Loads the subscription and the monthly prices of its current and the new plan, computes
proration = (new - old) * remaining_days / period_days (exact decimals, ROUND_HALF_UP to
2 places), switches the plan and charges the customer. Network errors on the charge are
retried; a declined card (or a charge that never goes through) switches the plan back
once and emails the customer that the upgrade failed.

Params: {"subscription_id": str, "new_plan": str, "effective_date": "YYYY-MM-DD"}
Events: none
Tools: subscriptions.get, plans.price, subscriptions.change_plan, billing.charge,
       email.send
"""

from datetime import date
from decimal import Decimal, ROUND_HALF_UP

CENT = Decimal("0.01")


async def run(event, step):
    params = event.payload
    subscription_id = params["subscription_id"]
    new_plan = params["new_plan"]
    effective = date.fromisoformat(params["effective_date"])

    sub = await step.do(f"load subscription {subscription_id}",
                        lambda: tools.subscriptions.get(subscription_id))
    old_plan = sub["plan"]
    customer_id = sub["customer_id"]

    prices = await step.gather(
        step.do(f"price of {old_plan}", lambda: tools.plans.price(old_plan)),
        step.do(f"price of {new_plan}", lambda: tools.plans.price(new_plan)),
    )
    old_price = Decimal(str(prices[0]))
    new_price = Decimal(str(prices[1]))

    period_start = date.fromisoformat(sub["period_start"])
    period_end = date.fromisoformat(sub["period_end"])
    period_days = (period_end - period_start).days
    remaining_days = (period_end - effective).days
    if period_days <= 0:
        raise NonRetryableError(f"subscription {subscription_id} has an empty period")

    proration = ((new_price - old_price) * Decimal(remaining_days) / Decimal(period_days)
                 ).quantize(CENT, rounding=ROUND_HALF_UP)
    amount = str(proration)

    await step.do(f"switch {subscription_id} to {new_plan}",
                  lambda ctx: tools.subscriptions.change_plan(subscription_id, new_plan,
                                                              ctx.idempotency_key))

    try:
        charge = await step.do(f"charge {customer_id} {amount}",
                               lambda ctx: tools.billing.charge(customer_id, amount,
                                                                ctx.idempotency_key))
    except StepFailed as err:
        print(f"charge for {subscription_id} failed: {err.cause}: {err.message}")
        await step.do(f"switch {subscription_id} back to {old_plan}",
                      lambda ctx: tools.subscriptions.change_plan(subscription_id, old_plan,
                                                                  ctx.idempotency_key))
        await step.do("email upgrade failure", lambda ctx: tools.email.send(
            sub["email"],
            f"Your upgrade to {new_plan} did not go through",
            (f"We could not charge the prorated amount of {amount} for upgrading "
             f"subscription {subscription_id} to {new_plan}, so it stays on {old_plan}. "
             f"Please check your payment method and try again."),
            ctx.idempotency_key))
        return {"subscription_id": subscription_id, "status": "reverted",
                "proration": amount, "plan": old_plan}

    print(f"charged {amount} for {subscription_id}: {charge['charge_id']}")
    return {"subscription_id": subscription_id, "status": "upgraded",
            "proration": amount, "plan": new_plan}
