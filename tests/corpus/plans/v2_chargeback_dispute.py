"""Respond to a card chargeback dispute.

Loads the dispute, asks the merchant for evidence and waits for their
"evidence-uploaded" event until 24 hours before the dispute's respond_by deadline
(later evidence is ignored). Collects the order and delivery proof, submits the
evidence once, then waits up to 75 days for "dispute-resolved". A lost dispute has its
amount written off once; no answer in 75 days gives outcome "unknown".

Params: {"dispute_id": str}
Events: "evidence-uploaded" with payload {"dispute_id": str, "files": [str]}
        "dispute-resolved" with payload {"dispute_id": str, "outcome": "won" | "lost"}
Tools: disputes.get, merchant.request_evidence, orders.get, shipping.proof,
       disputes.submit, ledger.write_off
"""

from datetime import datetime, timedelta, timezone

EVIDENCE_MARGIN = timedelta(hours=24)
RESOLUTION_WAIT = "75 days"


def parse_utc(text):
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when


async def run(event, step):
    dispute_id = event.payload["dispute_id"]
    this_dispute = {"dispute_id": dispute_id}

    dispute = await step.do("load dispute", lambda: tools.disputes.get(dispute_id))
    order_id = dispute["order_id"]
    amount = dispute["amount"]

    await step.do("request merchant evidence", lambda ctx: tools.merchant.request_evidence(
        order_id, dispute_id, ctx.idempotency_key))

    # The merchant may answer until 24 hours before the card network's deadline.
    evidence_deadline = parse_utc(dispute["respond_by"]) - EVIDENCE_MARGIN
    now = await step.now()
    remaining = evidence_deadline - now

    files = []
    if remaining.total_seconds() > 0:
        try:
            uploaded = await step.wait_for_event("merchant evidence", type="evidence-uploaded",
                                                 timeout=remaining, match=this_dispute)
            files = list(uploaded["payload"].get("files") or [])
        except EventTimeout:
            print(f"no merchant evidence for {dispute_id} in time; submitting without files")
    else:
        print(f"evidence deadline for {dispute_id} already passed; submitting without files")

    order, proof = await step.gather(
        step.do("load order", lambda: tools.orders.get(order_id)),
        step.do("load delivery proof", lambda: tools.shipping.proof(order_id)),
    )
    tracking = proof.get("tracking") if proof else None

    evidence = {"order_id": order["id"], "tracking": tracking, "files": files}
    await step.do("submit evidence", lambda ctx: tools.disputes.submit(
        dispute_id, evidence, ctx.idempotency_key))

    outcome = "unknown"
    written_off = None
    try:
        resolved = await step.wait_for_event("dispute resolution", type="dispute-resolved",
                                             timeout=RESOLUTION_WAIT, match=this_dispute)
        outcome = resolved["payload"].get("outcome")
        if outcome not in ("won", "lost"):
            outcome = "unknown"
    except EventTimeout:
        print(f"no resolution for {dispute_id} within 75 days")

    if outcome == "lost":
        await step.do("write off", lambda ctx: tools.ledger.write_off(
            dispute_id, amount, ctx.idempotency_key))
        written_off = amount

    return {"dispute_id": dispute_id, "files": files, "outcome": outcome,
            "written_off": written_off}
