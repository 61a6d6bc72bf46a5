"""Route an expense claim through manager approval, and finance approval above 500.00.

The manager is emailed and gets 2 days to send an "expense-decision" (role "manager") for
this expense; silence ends the claim as "expired". Claims above 500.00 that the manager
approved also need finance: finance is emailed and gets 3 days (role "finance");
silence opens a ticket in "finance-escalations" and ends the claim as "escalated".
The requester gets one email with the outcome when the claim is approved, rejected or
expired; escalated claims do not email the requester.

Params: {"expense_id": str, "amount": str, "requester": str, "manager": str,
         "finance": str}
Events: "expense-decision" with payload {"expense_id": str, "role": "manager" | "finance",
        "approved": bool, "by": str}
Tools: email.send, tickets.open
"""

from decimal import Decimal

FINANCE_THRESHOLD = Decimal("500.00")
MANAGER_WAIT = "2 days"
FINANCE_WAIT = "3 days"
ESCALATION_QUEUE = "finance-escalations"


async def run(event, step):
    claim = event.payload
    expense_id = claim["expense_id"]
    amount_text = claim["amount"]
    amount = Decimal(str(amount_text))
    summary = f"Expense {expense_id} for {amount_text} from {claim['requester']}"

    approvals = []
    ticket_id = None

    await step.do("email manager", lambda: tools.email.send(
        claim["manager"], f"Approval needed: expense {expense_id}",
        f"{summary} needs your approval."))

    status = None
    try:
        decision = await step.wait_for_event(
            "manager decision", type="expense-decision", timeout=MANAGER_WAIT,
            match={"expense_id": expense_id, "role": "manager"})
    except EventTimeout:
        decision = None
        status = "expired"

    if decision is not None:
        if not decision["payload"].get("approved"):
            status = "rejected"
        else:
            approvals.append(decision["payload"].get("by"))
            if amount <= FINANCE_THRESHOLD:
                status = "approved"
            else:
                await step.do("email finance", lambda: tools.email.send(
                    claim["finance"], f"Finance approval needed: expense {expense_id}",
                    f"{summary} was approved by the manager and needs finance approval."))
                try:
                    finance = await step.wait_for_event(
                        "finance decision", type="expense-decision", timeout=FINANCE_WAIT,
                        match={"expense_id": expense_id, "role": "finance"})
                except EventTimeout:
                    finance = None
                if finance is None:
                    ticket = await step.do("open escalation ticket", lambda: tools.tickets.open(
                        ESCALATION_QUEUE,
                        f"{summary}: no finance decision within {FINANCE_WAIT}"))
                    ticket_id = ticket["ticket_id"]
                    status = "escalated"
                elif finance["payload"].get("approved"):
                    approvals.append(finance["payload"].get("by"))
                    status = "approved"
                else:
                    status = "rejected"

    if status in ("approved", "rejected", "expired"):
        if status == "expired":
            body = f"{summary} expired: no manager decision within {MANAGER_WAIT}."
        else:
            body = f"{summary} was {status}."
        await step.do("email requester", lambda: tools.email.send(
            claim["requester"], f"Expense {expense_id}: {status}", body))

    return {"expense_id": expense_id, "status": status, "approvals": approvals,
            "ticket_id": ticket_id}
