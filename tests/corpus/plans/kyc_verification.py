"""Verify a new customer's identity: automatic check first, manual review as fallback.

The automatic ID check is tried 3 times in all (2 retries, 30 seconds apart). If it
answers, its verdict stands. If the provider stays down, the applicant goes into the
manual review queue and a reviewer has 2 days to send a "manual-review" event for this
applicant; no review in time means not verified. The applicant gets one email with the
outcome.

Params: {"applicant_id": str, "email": str}
Events: "manual-review" with payload {"applicant_id": str, "verified": bool, "reviewer": str}
Tools: idv.check, reviews.open, email.send
"""

CHECK_RETRIES = {"limit": 2, "delay": "30 seconds", "backoff": "constant"}
REVIEW_WINDOW = "2 days"


async def run(event, step):
    applicant_id = event.payload["applicant_id"]
    email = event.payload["email"]

    reviewer = None
    try:
        check = await step.do(f"automatic check {applicant_id}",
                              lambda: tools.idv.check(applicant_id), retries=CHECK_RETRIES)
        verified = bool(check.get("verified"))
        method = "automatic"
        print(f"automatic check: verified={verified} ({check.get('reason')})")
    except StepFailed as err:
        print(f"automatic check unavailable ({err.cause}: {err.message}); manual review")
        await step.do(f"open manual review {applicant_id}",
                      lambda: tools.reviews.open(applicant_id))
        try:
            review = await step.wait_for_event("manual review", type="manual-review",
                                               timeout=REVIEW_WINDOW,
                                               match={"applicant_id": applicant_id})
            verified = bool(review["payload"].get("verified"))
            reviewer = review["payload"].get("reviewer")
            method = "manual"
        except EventTimeout:
            print(f"no manual review for {applicant_id} within {REVIEW_WINDOW}")
            verified = False
            method = "timeout"

    if verified:
        subject = "Your identity is verified"
        body = "Good news: we have verified your identity. Your account is ready."
    else:
        subject = "We could not verify your identity"
        body = "We were unable to verify your identity. Please contact support."
    await step.do("email applicant", lambda: tools.email.send(email, subject, body))

    return {"applicant_id": applicant_id, "verified": verified, "method": method,
            "reviewer": reviewer}
