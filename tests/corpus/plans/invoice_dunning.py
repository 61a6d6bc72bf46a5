"""Chase an unpaid invoice: three reminders, then hand it to collections.

Reminders go out at 09:00 UTC on the due date + 3, + 7 and + 14 days. A payment of this
invoice (event "invoice-paid") at any time stops the chase: nothing more is sent. Still
unpaid 7 days after the third reminder, the invoice goes to collections.

Params: {"invoice_id": str}
Events: "invoice-paid" with payload {"invoice_id": str}
Tools: invoices.get, email.send, collections.assign
"""

from datetime import UTC, date, datetime, time, timedelta

REMINDER_OFFSETS_DAYS = [3, 7, 14]
REMINDER_HOUR = 9
COLLECTIONS_AFTER = timedelta(days=7)
# A wait needs some positive timeout even when its deadline has already passed; a short
# one still picks up a payment event that was sent earlier (events are buffered).
MIN_WAIT = timedelta(seconds=1)


async def run(event, step):
    invoice_id = event.payload["invoice_id"]
    this_invoice = {"invoice_id": invoice_id}

    invoice = await step.do("load invoice", lambda: tools.invoices.get(invoice_id))
    due = date.fromisoformat(invoice["due_date"])
    to = invoice["customer_email"]
    amount = invoice["amount"]
    currency = invoice.get("currency", "")

    async def paid_before(name, deadline):
        """Wait for this invoice's payment until `deadline`; True if it was paid."""
        now = await step.now()
        remaining = deadline - now
        if remaining < MIN_WAIT:
            remaining = MIN_WAIT
        try:
            await step.wait_for_event(name, type="invoice-paid", timeout=remaining,
                                      match=this_invoice)
        except EventTimeout:
            return False
        return True

    reminders_sent = 0
    for n, offset in enumerate(REMINDER_OFFSETS_DAYS, start=1):
        send_at = datetime.combine(due + timedelta(days=offset), time(REMINDER_HOUR, 0),
                                   tzinfo=UTC)
        if await paid_before(f"payment before reminder {n}", send_at):
            return {"invoice_id": invoice_id, "reminders_sent": reminders_sent,
                    "paid": True, "sent_to_collections": False}
        subject = f"Reminder {n}: invoice {invoice_id} is overdue"
        body = (f"Invoice {invoice_id} over {amount} {currency} was due on "
                f"{due.isoformat()} and is still unpaid. Please pay it as soon as possible.")
        await step.do(f"send reminder {n}",
                      lambda subject=subject, body=body: tools.email.send(to, subject, body))
        reminders_sent += 1

    try:
        await step.wait_for_event("payment after last reminder", type="invoice-paid",
                                  timeout=COLLECTIONS_AFTER, match=this_invoice)
        return {"invoice_id": invoice_id, "reminders_sent": reminders_sent,
                "paid": True, "sent_to_collections": False}
    except EventTimeout:
        pass

    await step.do("hand to collections",
                  lambda: tools.collections.assign(invoice_id, amount))
    return {"invoice_id": invoice_id, "reminders_sent": reminders_sent,
            "paid": False, "sent_to_collections": True}
