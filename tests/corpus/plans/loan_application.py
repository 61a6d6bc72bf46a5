"""Decide a personal loan application and make the offer when it is approved.

Runs the credit score and the fraud screening concurrently. Flagged applicants and
scores below 650 are declined, scores of 720 and above approved, by rule. Scores from
650 to 719 go to underwriting, which gets 3 days to send an "underwriter-decision" for
this application; silence declines it ("timeout"). An approved application gets an
annuity offer (monthly payment computed with exact decimals, rounded half up to cents),
made exactly once.

Params: {"application_id": str, "applicant_id": str, "principal": str,
         "annual_rate_pct": str, "months": int}
Events: "underwriter-decision" with payload {"application_id": str, "approved": bool,
        "underwriter": str}
Tools: credit.score, fraud.check, underwriting.request, loans.offer
"""

from decimal import Decimal, ROUND_HALF_UP

APPROVE_SCORE = 720
REVIEW_SCORE = 650
UNDERWRITER_WAIT = "3 days"
CENTS = Decimal("0.01")


def monthly_payment(principal, annual_rate_pct, months):
    r = annual_rate_pct / Decimal(100) / Decimal(12)
    if r == 0:
        payment = principal / Decimal(months)
    else:
        payment = principal * r / (Decimal(1) - (Decimal(1) + r) ** (-months))
    return payment.quantize(CENTS, rounding=ROUND_HALF_UP)


async def run(event, step):
    app = event.payload
    application_id = app["application_id"]
    applicant_id = app["applicant_id"]

    credit, fraud = await step.gather(
        step.do("credit score", lambda: tools.credit.score(applicant_id)),
        step.do("fraud check", lambda: tools.fraud.check(applicant_id)),
    )
    score = credit["score"]

    if fraud.get("flagged"):
        decision, via = "declined", "rules"
    elif score >= APPROVE_SCORE:
        decision, via = "approved", "rules"
    elif score >= REVIEW_SCORE:
        await step.do("request underwriting",
                      lambda: tools.underwriting.request(application_id))
        try:
            verdict = await step.wait_for_event(
                "underwriter decision", type="underwriter-decision",
                timeout=UNDERWRITER_WAIT, match={"application_id": application_id})
        except EventTimeout:
            verdict = None
        if verdict is None:
            decision, via = "declined", "timeout"
        else:
            approved = bool(verdict["payload"].get("approved"))
            decision, via = ("approved" if approved else "declined"), "underwriter"
    else:
        decision, via = "declined", "rules"

    payment_text = None
    if decision == "approved":
        payment = monthly_payment(Decimal(str(app["principal"])),
                                  Decimal(str(app["annual_rate_pct"])),
                                  int(app["months"]))
        payment_text = f"{payment:.2f}"
        offer = await step.do("make offer", lambda ctx: tools.loans.offer(
            application_id, payment_text, ctx.idempotency_key))
        print(f"offer {offer.get('offer_id')} sent for {application_id}: {payment_text}")

    return {"application_id": application_id, "decision": decision, "via": via,
            "score": score, "monthly_payment": payment_text}
