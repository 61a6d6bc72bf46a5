"""Ask a manager to approve an expense; remind them once, then auto-reject.

The approver gets a day to answer, then one reminder and two more days. Decisions about
other requests are ignored (they carry another request_id). The requester is told the
outcome either way.

Params: {"request_id": str, "approver": str, "requester": str, "amount": str, "reason": str}
Events: "approval-decision" with payload {"request_id": str, "approved": bool, "by": str}
Tools: notify.send
"""

FIRST_WAIT = "1 day"
WAIT_AFTER_REMINDER = "2 days"


async def run(event, step):
    request = event.payload
    request_id = request["request_id"]
    summary = f"{request['requester']} asks for {request['amount']}: {request['reason']}"
    # Correlate: only a decision about *this* request may complete the wait.
    this_request = {"request_id": request_id}

    # The idempotency key stops a retried send from mailing the approver twice.
    await step.do("ask approver", lambda ctx: tools.notify.send(
        request["approver"], f"Please approve {request_id}. {summary}", ctx.idempotency_key))

    reminded = False
    decision = None
    try:
        decision = await step.wait_for_event("decision", type="approval-decision",
                                             timeout=FIRST_WAIT, match=this_request)
    except EventTimeout:
        reminded = True
        await step.do("remind approver", lambda ctx: tools.notify.send(
            request["approver"], f"Reminder: {request_id} is still waiting for you. {summary}",
            ctx.idempotency_key))
        try:
            decision = await step.wait_for_event("decision after reminder",
                                                 type="approval-decision",
                                                 timeout=WAIT_AFTER_REMINDER,
                                                 match=this_request)
        except EventTimeout:
            print(f"no decision on {request_id}; rejecting automatically")

    if decision is None:
        approved, decided_by = False, None
        outcome = "was rejected automatically (no answer in 3 days)"
    else:
        approved = bool(decision["payload"].get("approved"))
        decided_by = decision["payload"].get("by")
        outcome = f"was {'approved' if approved else 'rejected'} by {decided_by}"

    await step.do("tell requester", lambda ctx: tools.notify.send(
        request["requester"], f"Your request {request_id} {outcome}.", ctx.idempotency_key))

    return {"request_id": request_id, "approved": approved, "decided_by": decided_by,
            "reminded": reminded, "timed_out": decision is None}
