"""Reach out to customer accounts at risk of churning, all accounts in parallel.

For each account: load 8 weeks of weekly active users and the billing data. An account
is "high" risk when the average of the last 4 weeks is below 60% of the average of the
first 4 weeks and its renewal date is at most 60 days after the run's start date (UTC);
otherwise "low" and nothing more is done. High-risk admins get one email offering a
check-in call; a "meeting-booked" event for the account within 5 days is noted in the
CRM (outcome "booked"), otherwise the customer success manager gets a task
(outcome "csm_task"). The output sums the high-risk accounts' MRR exactly.

Params: {"accounts": [str], "csm": str}
Events: "meeting-booked" with payload {"account_id": str}
Tools: usage.weekly_active, billing.account, email.send, crm.note, tasks.create
"""

from datetime import date, timedelta, timezone
from decimal import Decimal

CENT = Decimal("0.01")
RENEWAL_WINDOW = timedelta(days=60)
BOOKING_WAIT = "5 days"


def is_high_risk(weekly, renewal_date, start_date):
    first = weekly[:4]
    last = weekly[-4:]
    if not first or not last:
        return False
    # avg(last) < 0.6 * avg(first), in exact integer arithmetic.
    dropped = sum(last) * 5 * len(first) < sum(first) * 3 * len(last)
    renews_soon = date.fromisoformat(renewal_date) <= start_date + RENEWAL_WINDOW
    return dropped and renews_soon


async def run(event, step):
    accounts = event.payload["accounts"]
    csm = event.payload["csm"]
    start_date = event.timestamp.astimezone(timezone.utc).date()

    async def handle(account_id):
        weekly, billing = await step.gather(
            step.do(f"weekly active {account_id}",
                    lambda: tools.usage.weekly_active(account_id)),
            step.do(f"billing {account_id}", lambda: tools.billing.account(account_id)),
        )
        if not is_high_risk(weekly, billing["renewal_date"], start_date):
            return {"account_id": account_id, "risk": "low", "outcome": None, "mrr": None}

        subject = "Can we help? Let's schedule a check-in call"
        body = (f"Hello,\n\nWe noticed usage of account {account_id} has dropped recently, "
                f"and your renewal is coming up on {billing['renewal_date']}. We'd love to "
                "set up a short check-in call to make sure you get the most out of the "
                "product. Just book a time that suits you.\n\nBest regards,\n"
                "Customer Success")
        await step.do(f"email admin {account_id}", lambda ctx: tools.email.send(
            billing["admin_email"], subject, body, ctx.idempotency_key))

        try:
            await step.wait_for_event(f"meeting booked {account_id}", type="meeting-booked",
                                      timeout=BOOKING_WAIT,
                                      match={"account_id": account_id})
            await step.do(f"note booking {account_id}", lambda ctx: tools.crm.note(
                account_id, "Churn-risk outreach: check-in call booked.",
                ctx.idempotency_key))
            outcome = "booked"
        except EventTimeout:
            await step.do(f"csm task {account_id}", lambda ctx: tools.tasks.create(
                csm, account_id,
                f"Churn risk: call {account_id}, no check-in booked after outreach",
                ctx.idempotency_key))
            outcome = "csm_task"
        return {"account_id": account_id, "risk": "high", "outcome": outcome,
                "mrr": billing["mrr"]}

    results = await step.gather(*[handle(account_id) for account_id in accounts])

    mrr_at_risk = Decimal("0")
    for result in results:
        if result["risk"] == "high":
            mrr_at_risk += Decimal(result["mrr"])

    return {
        "accounts": [{"account_id": r["account_id"], "risk": r["risk"],
                      "outcome": r["outcome"]} for r in results],
        "mrr_at_risk": str(mrr_at_risk.quantize(CENT)),
    }
