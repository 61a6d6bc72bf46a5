"""Collect votes on a change proposal until a quorum decides it, within 48 hours.

Counts "vote" events for this proposal from listed approvers only; each person's first
vote counts, later ones are ignored. The proposal is approved as soon as `quorum` yes
votes are in, rejected as soon as too many no votes make the quorum unreachable, and
expires when neither happened 48 hours after the run started (one total deadline, not
per vote). The proposer is notified once with the decision.

Params: {"proposal": str, "proposer": str, "quorum": int, "approvers": [str, ...]}
Events: "vote" with payload {"proposal": str, "approver": str, "approve": bool}
Tools: notify.send
"""

from datetime import timedelta

DEADLINE_AFTER = timedelta(hours=48)


async def run(event, step):
    proposal = event.payload["proposal"]
    proposer = event.payload["proposer"]
    quorum = int(event.payload["quorum"])
    approvers = []
    for person in event.payload.get("approvers") or []:
        if person not in approvers:
            approvers.append(person)

    deadline = event.timestamp + DEADLINE_AFTER
    approvals = []
    rejections = []
    decision = None

    while decision is None:
        if len(approvals) >= quorum:
            decision = "approved"
            break
        if len(approvers) - len(rejections) < quorum:
            decision = "rejected"
            break

        now = await step.now()
        remaining = deadline - now
        if remaining.total_seconds() <= 0:
            decision = "expired"
            break

        try:
            vote = await step.wait_for_event("vote", type="vote", timeout=remaining,
                                             match={"proposal": proposal})
        except EventTimeout:
            decision = "expired"
            break

        payload = vote["payload"]
        voter = payload.get("approver")
        if voter not in approvers:
            print(f"ignoring vote from {voter}: not an approver of {proposal}")
            continue
        if voter in approvals or voter in rejections:
            print(f"ignoring repeated vote from {voter}")
            continue
        if payload.get("approve") is True:
            approvals.append(voter)
        else:
            rejections.append(voter)

    text = (f"Your proposal {proposal} was {decision}: {len(approvals)} yes, "
            f"{len(rejections)} no (quorum {quorum}).")
    await step.do("notify proposer", lambda: tools.notify.send(proposer, text))

    return {"proposal": proposal, "decision": decision, "approvals": approvals,
            "rejections": rejections}
