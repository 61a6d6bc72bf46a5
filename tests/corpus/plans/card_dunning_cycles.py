"""Collect a failed subscription renewal with up to three dunning cycles.

Each cycle tries to charge the renewal (a fresh idempotency key per cycle, since each
charge is its own step). A declined card before the last cycle emails the customer to
update their card and waits 3 days before the next try. A decline on the 3rd cycle
cancels the subscription without another email.

Params: {"customer_id": str, "amount": str, "email": str}
Events: none
Tools: billing.charge, email.send, subscriptions.cancel
"""

MAX_CYCLES = 3
WAIT_BETWEEN_CYCLES = "3 days"


async def run(event, step):
    customer_id = event.payload["customer_id"]
    amount = event.payload["amount"]
    to = event.payload["email"]

    cycles = 0
    emails = 0

    for cycle in range(1, MAX_CYCLES + 1):
        cycles = cycle
        try:
            # One step per cycle: its idempotency key is new for each cycle, but the same
            # for retries of this cycle after network trouble.
            charge = await step.do(
                f"charge cycle {cycle}",
                lambda ctx: tools.billing.charge(customer_id, amount, ctx.idempotency_key))
        except StepFailed as err:
            if "declined" not in str(err.message).lower():
                # Not a decline: retries ran out on something else; let the run fail.
                raise
            print(f"cycle {cycle}: card declined for {customer_id}")
            if cycle == MAX_CYCLES:
                break
            await step.do(f"ask to update card {cycle}", lambda: tools.email.send(
                to,
                "Please update your card",
                f"We could not charge {amount} for your subscription renewal. "
                f"Please update your card; we will try again in 3 days."))
            emails += 1
            await step.sleep(f"wait after decline {cycle}", WAIT_BETWEEN_CYCLES)
            continue

        print(f"cycle {cycle}: charged {customer_id}, charge {charge.get('charge_id')}")
        return {"customer_id": customer_id, "status": "paid", "cycles": cycles,
                "emails": emails}

    await step.do("cancel subscription", lambda: tools.subscriptions.cancel(customer_id))
    return {"customer_id": customer_id, "status": "cancelled", "cycles": cycles,
            "emails": emails}
