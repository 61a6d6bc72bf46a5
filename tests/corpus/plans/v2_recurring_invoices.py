"""Generate a customer's monthly invoices for the next few months.

For each of `months` consecutive monthly periods, starting with the month the run
starts in, wait until the 1st of that month at 09:00 UTC (a time already past, such as
the current month's 1st, is due at once), count the customer's seats at that moment,
invoice seats * seat_price once for period "YYYY-MM" and email the invoice once.

Params: {"customer_id": str, "email": str, "seat_price": str, "months": int}
Events: none
Tools: seats.count, invoices.create, email.send
"""

from datetime import datetime, timezone
from decimal import Decimal, ROUND_HALF_UP

CENT = Decimal("0.01")


def add_months(year, month, n):
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


async def run(event, step):
    params = event.payload
    customer_id = params["customer_id"]
    to = params["email"]
    seat_price = Decimal(str(params["seat_price"]))
    months = int(params["months"])

    started = event.timestamp.astimezone(timezone.utc)

    invoices = []
    for i in range(months):
        year, month = add_months(started.year, started.month, i)
        period = f"{year:04d}-{month:02d}"
        due = datetime(year, month, 1, 9, 0, 0, tzinfo=timezone.utc)

        await step.sleep_until(f"wait for {period} invoice day", due)

        seats = await step.do(f"count seats for {period}",
                              lambda: tools.seats.count(customer_id))
        amount = str((Decimal(int(seats)) * seat_price).quantize(CENT, rounding=ROUND_HALF_UP))

        created = await step.do(
            f"create invoice {period}",
            lambda ctx, period=period, amount=amount: tools.invoices.create(
                customer_id, period, amount, ctx.idempotency_key))
        invoice_id = created["invoice_id"]

        subject = f"Invoice {period}"
        body = (f"Your invoice {invoice_id} for {period}: {seats} seat(s) at "
                f"{params['seat_price']} each, total {amount}.")
        await step.do(
            f"email invoice {period}",
            lambda ctx, subject=subject, body=body: tools.email.send(
                to, subject, body, ctx.idempotency_key))

        invoices.append({"period": period, "invoice_id": invoice_id, "amount": amount})

    return {"customer_id": customer_id, "invoices": invoices}
