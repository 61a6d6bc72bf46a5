"""Check the 4-hour assignment SLA of a new support ticket and nudge the leads if missed.

Reads the ticket when the run starts, waits 4 hours, and reads it again. If it still has
no assignee and is still "open", one message naming the ticket goes to #support-leads.
Nothing is posted otherwise, and nothing before the 4 hours are up.

Params: {"ticket_id": str}
Events: none
Tools: tickets.get, chat.post
"""

SLA = "4 hours"
LEADS_CHANNEL = "#support-leads"


async def run(event, step):
    ticket_id = event.payload["ticket_id"]

    first = await step.do("read ticket at start", lambda: tools.tickets.get(ticket_id))
    print(f"{ticket_id} at start: status={first.get('status')} "
          f"assignee={first.get('assignee')}")

    await step.sleep("SLA window", SLA)

    later = await step.do("read ticket after SLA", lambda: tools.tickets.get(ticket_id))
    assigned = later.get("assignee") is not None
    nudged = False

    if not assigned and later.get("status") == "open":
        subject = later.get("subject") or first.get("subject") or ""
        text = (f"SLA missed: ticket {ticket_id} ({subject}) is still open and unassigned "
                f"after {SLA}. Please assign it.")
        await step.do("nudge leads", lambda: tools.chat.post(LEADS_CHANNEL, text))
        nudged = True

    return {"ticket_id": ticket_id, "assigned": assigned, "nudged": nudged}
