"""Handle the end of a free trial: finish on subscription, otherwise downgrade and tell them.

The trial lasts trial_days days from when this run started. A "subscribed" event for
this account before then ends the run with nothing else done. If the trial ends without
one, the account is downgraded to the free plan (idempotency key) and its owner gets one
email saying the trial ended.

Params: {"account_id": str, "trial_days": number}
Events: "subscribed" with payload {"account_id": str, "plan": str}
Tools: accounts.get, accounts.downgrade, email.send
"""

from datetime import timedelta

# One wait may last at most 365 days; longer trials wait in chunks.
MAX_WAIT_SECONDS = 364 * 24 * 3600


async def run(event, step):
    account_id = event.payload["account_id"]
    trial_days = event.payload["trial_days"]
    trial_end = event.timestamp + timedelta(days=trial_days)
    this_account = {"account_id": account_id}

    subscription = None
    chunk = 0
    while subscription is None:
        now = await step.now()
        remaining = (trial_end - now).total_seconds()
        if remaining <= 0:
            break
        chunk += 1
        try:
            subscription = await step.wait_for_event(
                f"subscription during trial ({chunk})", type="subscribed",
                timeout=min(remaining, MAX_WAIT_SECONDS), match=this_account)
        except EventTimeout:
            pass

    if subscription is not None:
        return {"account_id": account_id, "outcome": "subscribed",
                "plan": subscription["payload"].get("plan")}

    account = await step.do("load account", lambda: tools.accounts.get(account_id))
    await step.do("downgrade account", lambda ctx: tools.accounts.downgrade(
        account_id, ctx.idempotency_key))
    await step.do("tell trial ended", lambda: tools.email.send(
        account["email"],
        "Your free trial has ended",
        f"Your {trial_days}-day trial has ended and your account {account_id} is now on "
        f"the free plan. Subscribe any time to get your features back."))

    return {"account_id": account_id, "outcome": "downgraded", "plan": None}
