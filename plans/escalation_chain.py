"""Page an incident up an escalation chain until someone acknowledges it.

Each level gets a deadline; when it passes unacknowledged, the next level is paged.
If the whole chain stays silent, a ticket is opened so the incident is not forgotten.

Params: {"incident": str, "summary": str, "chain": [str, ...]}  (first entry paged first)
Events: "incident-acknowledged" with payload {"incident": str, "by": str}
Tools: notify.send, tickets.open
"""

# How long each level has to acknowledge. Senior levels get longer: they are fewer
# and are more likely to be in a meeting.
LEVEL_TIMEOUTS = ["15 minutes", "30 minutes", "1 hour"]


async def run(event, step):
    incident = event.payload["incident"]
    summary = event.payload["summary"]
    chain = event.payload["chain"][:len(LEVEL_TIMEOUTS)]

    paged_at = await step.now()
    print(f"{incident}: escalation started at {paged_at}")

    for level, contact in enumerate(chain, start=1):
        deadline = LEVEL_TIMEOUTS[level - 1]
        await step.do(f"page level {level}", lambda ctx: tools.notify.send(
            contact, f"[{incident}] {summary}. Acknowledge within {deadline}.",
            ctx.idempotency_key))
        try:
            # Only acks for this incident count; acks for other incidents stay queued.
            ack = await step.wait_for_event(f"ack level {level}", type="incident-acknowledged",
                                            timeout=deadline, match={"incident": incident})
        except EventTimeout:
            print(f"level {level} ({contact}) did not acknowledge within {deadline}")
            continue
        return {"incident": incident, "acknowledged": True, "level": level,
                "by": ack["payload"].get("by", contact)}

    ticket = await step.do("open ticket", lambda: tools.tickets.open(
        incident, f"nobody in the chain acknowledged: {summary}"))
    return {"incident": incident, "acknowledged": False, "level": None, "by": None,
            "ticket": ticket["ticket_id"]}
