"""Pay out a referral reward when the referred customer's first paid order qualifies.

Loads the referral and the referee's first paid order. A first paid order of at least
50.00 earns store credit once each: 20.00 for the referrer and 10.00 for the referee
(reason "referral"), and the referral is marked "rewarded". No paid order, or a smaller
one, grants nothing and marks the referral "ineligible".

Params: {"referral_id": str}
Events: none
Tools: referrals.get, orders.first_paid, credits.grant, referrals.mark
"""

from decimal import Decimal

MIN_ORDER_TOTAL = Decimal("50.00")
REFERRER_CREDIT = "20.00"
REFEREE_CREDIT = "10.00"


async def run(event, step):
    referral_id = event.payload["referral_id"]

    referral = await step.do(f"load referral {referral_id}",
                             lambda: tools.referrals.get(referral_id))
    referrer_id = referral["referrer_id"]
    referee_id = referral["referee_id"]

    first_order = await step.do(f"first paid order of {referee_id}",
                                lambda: tools.orders.first_paid(referee_id))

    eligible = (first_order is not None
                and Decimal(str(first_order["total"])) >= MIN_ORDER_TOTAL)

    credits = []
    if eligible:
        for customer_id, amount, role in ((referrer_id, REFERRER_CREDIT, "referrer"),
                                          (referee_id, REFEREE_CREDIT, "referee")):
            await step.do(
                f"grant {amount} to {role} {customer_id}",
                lambda ctx, customer_id=customer_id, amount=amount: tools.credits.grant(
                    customer_id, amount, "referral", ctx.idempotency_key))
            credits.append({"customer_id": customer_id, "amount": amount})
        status = "rewarded"
    else:
        status = "ineligible"

    await step.do(f"mark {referral_id} {status}",
                  lambda: tools.referrals.mark(referral_id, status))

    return {"referral_id": referral_id, "status": status, "credits": credits}
