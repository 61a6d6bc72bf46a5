"""Handle a refund request: refund small payments automatically, send larger ones to review.

Fetches the payment and compares its amount with auto_limit as decimals. At or below the
limit the full amount is refunded (retried with the default policy; the idempotency key
makes sure the customer is refunded exactly once). Above the limit a review ticket is
opened instead and nothing is refunded.

Params: {"payment_id": str, "auto_limit": str}
Events: none
Tools: payments.get, payments.refund, tickets.open
"""

from decimal import Decimal


async def run(event, step):
    payment_id = event.payload["payment_id"]
    auto_limit = Decimal(str(event.payload["auto_limit"]))

    payment = await step.do(f"fetch payment {payment_id}",
                            lambda: tools.payments.get(payment_id))
    amount_text = payment["amount"]
    amount = Decimal(str(amount_text))

    if amount <= auto_limit:
        refund = await step.do(
            f"refund {payment_id}",
            lambda ctx: tools.payments.refund(payment_id, amount_text, ctx.idempotency_key))
        return {"payment_id": payment_id, "refunded": True, "amount": amount_text,
                "refund_id": refund["refund_id"], "ticket_id": None}

    reason = (f"refund of {amount_text} {payment.get('currency', '')} for customer "
              f"{payment.get('customer', '')} exceeds the automatic limit of "
              f"{event.payload['auto_limit']}")
    ticket = await step.do(f"open review ticket for {payment_id}",
                           lambda: tools.tickets.open(payment_id, reason))
    return {"payment_id": payment_id, "refunded": False, "amount": amount_text,
            "refund_id": None, "ticket_id": ticket["ticket_id"]}
