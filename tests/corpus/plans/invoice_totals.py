"""Prepare a customer's monthly statement from their open invoices.

Sums the amounts of the "open" invoices with exact decimal arithmetic, adds 8.25% tax
(rounded to cents, half up) and creates the statement exactly once (the idempotency key
makes a retried create safe).

Params: {"customer_id": str}
Events: none
Tools: invoices.list, billing.statement
"""

from decimal import Decimal, ROUND_HALF_UP

TAX_RATE = Decimal("0.0825")
CENTS = Decimal("0.01")


def money(value):
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


async def run(event, step):
    customer_id = event.payload["customer_id"]

    invoices = await step.do(f"list invoices of {customer_id}",
                             lambda: tools.invoices.list(customer_id))

    open_numbers = []
    subtotal = Decimal("0")
    for invoice in invoices:
        if invoice.get("status") == "open":
            open_numbers.append(invoice["number"])
            subtotal += Decimal(str(invoice["amount"]))

    subtotal = money(subtotal)
    tax = money(subtotal * TAX_RATE)
    total = money(subtotal + tax)
    total_text = f"{total:.2f}"

    statement = await step.do(
        f"create statement for {customer_id}",
        lambda ctx: tools.billing.statement(customer_id, total_text, ctx.idempotency_key))
    print(f"statement {statement.get('id')} created for {customer_id}: {total_text}")

    return {"customer_id": customer_id, "open_invoices": open_numbers,
            "subtotal": f"{subtotal:.2f}", "tax": f"{tax:.2f}", "total": total_text}
