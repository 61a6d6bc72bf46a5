"""Collect contractors' tax forms before the filing deadline, all contractors in parallel.

For each contractor whose form for the tax year is missing: email a request once, wait
for their "form-submitted" event (this contractor, this tax year) until 7 days before
the deadline, then email one reminder and keep waiting until the deadline. A form still
missing at the deadline puts the contractor's payments on hold, once.

Params: {"tax_year": int, "deadline": ISO-8601 str,
         "contractors": [{"id": str, "email": str}, ...]}
Events: "form-submitted" with payload {"contractor_id": str, "tax_year": int}
Tools: forms.status, email.send, payments.hold
"""

from datetime import datetime, timedelta

REMINDER_LEAD = timedelta(days=7)


def seconds_until(when, now):
    # A wait needs a positive timeout; a moment already past gets a token second.
    return max(1, (when - now).total_seconds())


async def run(event, step):
    params = event.payload
    tax_year = int(params["tax_year"])
    deadline = datetime.fromisoformat(params["deadline"])
    remind_at = deadline - REMINDER_LEAD
    contractors = params["contractors"]
    deadline_text = deadline.strftime("%Y-%m-%d %H:%M %Z").strip()

    async def collect(contractor):
        cid = contractor["id"]
        to = contractor["email"]
        this_form = {"contractor_id": cid, "tax_year": tax_year}

        status = await step.do(f"form status {cid}",
                               lambda: tools.forms.status(cid, tax_year))
        if status == "on_file":
            return {"id": cid, "outcome": "on_file", "reminded": False}

        await step.do(f"request form {cid}", lambda ctx: tools.email.send(
            to,
            f"Please submit your {tax_year} tax form",
            (f"We do not have your tax form for {tax_year} on file. Please submit it "
             f"before {deadline_text}; otherwise your payments will be put on hold."),
            ctx.idempotency_key))

        now = await step.now()
        try:
            await step.wait_for_event(f"form from {cid}", type="form-submitted",
                                      timeout=seconds_until(remind_at, now),
                                      match=this_form)
            return {"id": cid, "outcome": "collected", "reminded": False}
        except EventTimeout:
            pass

        await step.do(f"remind {cid}", lambda ctx: tools.email.send(
            to,
            f"Reminder: your {tax_year} tax form is still missing",
            (f"Your tax form for {tax_year} is still missing. Please submit it before "
             f"{deadline_text}, or your payments will be put on hold."),
            ctx.idempotency_key))

        now = await step.now()
        try:
            await step.wait_for_event(f"form from {cid} after reminder",
                                      type="form-submitted",
                                      timeout=seconds_until(deadline, now),
                                      match=this_form)
            return {"id": cid, "outcome": "collected", "reminded": True}
        except EventTimeout:
            pass

        await step.do(f"hold payments {cid}", lambda ctx: tools.payments.hold(
            cid, f"tax form {tax_year} missing at deadline", ctx.idempotency_key))
        return {"id": cid, "outcome": "held", "reminded": True}

    results = []
    if contractors:
        results = await step.gather(*[collect(c) for c in contractors])

    return {
        "tax_year": tax_year,
        "on_file": [r["id"] for r in results if r["outcome"] == "on_file"],
        "collected": [r["id"] for r in results if r["outcome"] == "collected"],
        "held": [r["id"] for r in results if r["outcome"] == "held"],
        "reminded": [r["id"] for r in results if r["reminded"]],
    }
