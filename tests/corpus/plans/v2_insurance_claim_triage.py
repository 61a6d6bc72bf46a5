"""Triage a batch of insurance claims, in parallel, giving each claim exactly one action.

For each claim: load it and its policy. An inactive policy is denied
("policy-inactive"). Otherwise the fraud score is fetched (retried 2 times, 1 second
apart); if the fraud service stays down the claim goes to an adjuster ("manual").
Score >= 0.8 goes to the SIU ("investigate"). The payout is amount minus deductible,
capped at the policy limit; a payout <= 0 is denied ("below-deductible"). Claims of at
most 1000.00 with a score below 0.3 are paid once ("auto_paid"); everything else goes
to an adjuster ("manual").

Params: {"claim_ids": [str]}
Events: none
Tools: claims.get, policies.get, fraud.score, claims.deny, claims.refer, payments.pay
"""

from decimal import Decimal

CENT = Decimal("0.01")
AUTO_PAY_MAX = Decimal("1000.00")
SIU_SCORE = 0.8
AUTO_PAY_SCORE = 0.3
FRAUD_RETRIES = {"limit": 2, "delay": "1 second", "backoff": "constant"}


async def run(event, step):
    claim_ids = event.payload["claim_ids"]

    async def deny(claim_id, reason):
        await step.do(f"deny {claim_id}", lambda ctx: tools.claims.deny(
            claim_id, reason, ctx.idempotency_key))
        return {"claim_id": claim_id, "route": "denied", "payout": None}

    async def refer(claim_id, queue, route):
        await step.do(f"refer {claim_id} to {queue}", lambda ctx: tools.claims.refer(
            claim_id, queue, ctx.idempotency_key))
        return {"claim_id": claim_id, "route": route, "payout": None}

    async def triage(claim_id):
        claim = await step.do(f"load claim {claim_id}", lambda: tools.claims.get(claim_id))
        policy_id = claim["policy_id"]
        policy = await step.do(f"load policy {policy_id} for {claim_id}",
                               lambda: tools.policies.get(policy_id))

        if not policy.get("active"):
            return await deny(claim_id, "policy-inactive")

        try:
            score = await step.do(f"fraud score {claim_id}",
                                  lambda: tools.fraud.score(claim_id),
                                  retries=FRAUD_RETRIES)
        except StepFailed as err:
            print(f"fraud service failed for {claim_id}: {err.message}; manual review")
            return await refer(claim_id, "adjuster", "manual")

        if score >= SIU_SCORE:
            return await refer(claim_id, "siu", "investigate")

        amount = Decimal(claim["amount"])
        payout = min(amount - Decimal(policy["deductible"]), Decimal(policy["limit"]))
        if payout <= 0:
            return await deny(claim_id, "below-deductible")

        if amount <= AUTO_PAY_MAX and score < AUTO_PAY_SCORE:
            payout_text = str(payout.quantize(CENT))
            await step.do(f"pay {claim_id}", lambda ctx: tools.payments.pay(
                claim_id, payout_text, ctx.idempotency_key))
            return {"claim_id": claim_id, "route": "auto_paid", "payout": payout_text}

        return await refer(claim_id, "adjuster", "manual")

    results = await step.gather(*[triage(claim_id) for claim_id in claim_ids])

    total_paid = Decimal("0")
    for result in results:
        if result["payout"] is not None:
            total_paid += Decimal(result["payout"])

    return {"results": results, "total_paid": str(total_paid.quantize(CENT))}
