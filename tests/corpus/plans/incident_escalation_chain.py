"""Page an incident's on-call chain, one responder at a time, until somebody acknowledges.

Each responder is paged in order and given 15 minutes; an acknowledgement of this
incident by anyone stops the chain. If the whole chain stays silent, one update is posted
to the public status page.

Params: {"incident_id": str, "chain": [str, ...]}
Events: "incident-ack" with payload {"incident_id": str, "by": str}
Tools: pager.page, statuspage.post
"""

ACK_WAIT = "15 minutes"


async def run(event, step):
    incident_id = event.payload["incident_id"]
    chain = list(event.payload.get("chain") or [])
    this_incident = {"incident_id": incident_id}

    paged = []
    for person in chain:
        # The idempotency key keeps a retried page from waking the responder twice.
        await step.do(f"page {person}", lambda ctx, person=person: tools.pager.page(
            person, incident_id, ctx.idempotency_key))
        paged.append(person)
        try:
            ack = await step.wait_for_event(f"ack after paging {person}", type="incident-ack",
                                            timeout=ACK_WAIT, match=this_incident)
        except EventTimeout:
            print(f"{person} did not acknowledge {incident_id} within {ACK_WAIT}")
            continue
        return {"incident_id": incident_id, "acked_by": ack["payload"].get("by"),
                "paged": paged, "status_posted": False}

    await step.do("post status update", lambda: tools.statuspage.post(
        incident_id, f"We are investigating incident {incident_id}. "
                     f"Updates will follow as soon as we know more."))

    return {"incident_id": incident_id, "acked_by": None, "paged": paged,
            "status_posted": True}
