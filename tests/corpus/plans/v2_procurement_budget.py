"""Process a purchase request against its cost center's budget.

Totals the request lines exactly (qty * unit_price), rejects it when the cost center has
less budget left than the total, approves totals up to 2500.00 automatically and asks
finance for larger ones (waiting up to 2 days for this request's decision). An approved
request commits the total to the budget once and creates one purchase order per vendor
(retrying the purchasing system's transient errors). The requester is emailed the status
in every case.

Params: {"request_id": str, "cost_center": str, "requester": str,
         "lines": [{"vendor": str, "item": str, "qty": int, "unit_price": str}, ...]}
Events: "procurement-decision" with payload {"request_id": str, "approved": bool,
        "approver": str}
Tools: budgets.remaining, approvals.request, budgets.commit, purchasing.create_po,
       email.send
"""

from decimal import Decimal, ROUND_HALF_UP

CENT = Decimal("0.01")
AUTO_APPROVE_LIMIT = Decimal("2500.00")
DECISION_WAIT = "2 days"
PO_RETRIES = {"limit": 6, "delay": "10 seconds", "backoff": "exponential"}


def money(value):
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def line_amount(line):
    return Decimal(str(line["unit_price"])) * int(line["qty"])


async def run(event, step):
    params = event.payload
    request_id = params["request_id"]
    cost_center = params["cost_center"]
    requester = params["requester"]
    lines = params["lines"]

    total = Decimal("0")
    for line in lines:
        total += line_amount(line)
    total_text = money(total)

    remaining_text = await step.do(f"budget left on {cost_center}",
                                   lambda: tools.budgets.remaining(cost_center))
    remaining = Decimal(str(remaining_text))

    status = None
    approver = None
    pos = []

    if total > remaining:
        status = "rejected_budget"
    elif total <= AUTO_APPROVE_LIMIT:
        approver = "auto"
    else:
        await step.do(f"ask finance to approve {request_id}",
                      lambda ctx: tools.approvals.request(request_id, total_text,
                                                          ctx.idempotency_key))
        try:
            decision = await step.wait_for_event("finance decision",
                                                 type="procurement-decision",
                                                 timeout=DECISION_WAIT,
                                                 match={"request_id": request_id})
            if decision["payload"].get("approved") is True:
                approver = decision["payload"].get("approver")
            else:
                status = "declined"
        except EventTimeout:
            status = "expired"

    if status is None:
        await step.do(f"commit {total_text} to {cost_center}",
                      lambda ctx: tools.budgets.commit(cost_center, total_text,
                                                       ctx.idempotency_key))

        by_vendor = {}
        for line in lines:
            by_vendor.setdefault(line["vendor"], []).append(line)

        for vendor in sorted(by_vendor):
            vendor_lines = by_vendor[vendor]
            subtotal = Decimal("0")
            for line in vendor_lines:
                subtotal += line_amount(line)
            amount_text = money(subtotal)
            po = await step.do(
                f"create PO for {vendor}",
                lambda ctx, vendor=vendor, vendor_lines=vendor_lines, amount_text=amount_text:
                    tools.purchasing.create_po(vendor, vendor_lines, amount_text,
                                               ctx.idempotency_key),
                retries=PO_RETRIES)
            pos.append({"vendor": vendor, "po_id": po["po_id"], "amount": amount_text})
        status = "ordered"

    explanations = {
        "ordered": f"was approved and ordered: {len(pos)} purchase order(s) created.",
        "rejected_budget": (f"was rejected: the total {total_text} exceeds the budget "
                            f"left on {cost_center} ({money(remaining)})."),
        "declined": "was declined by finance.",
        "expired": "expired: finance did not decide within 2 days.",
    }
    subject = f"Purchase request {request_id}: {status}"
    body = f"Your purchase request {request_id} (total {total_text}) {explanations[status]}"
    if pos:
        body += "\n" + "\n".join(f"- {p['vendor']}: {p['po_id']} ({p['amount']})" for p in pos)

    await step.do(f"email {requester} the status",
                  lambda ctx: tools.email.send(requester, subject, body, ctx.idempotency_key))

    return {"request_id": request_id, "status": status, "total": total_text, "pos": pos}
