"""Keep a high-priority ticket moving: remind the assignee every 4 hours, then escalate.

Waits for this ticket's "ticket-resolved" event. Each 4 hours without it sends the
assignee a reminder (at most 3: after 4, 8 and 12 hours). Still unresolved 4 hours after
the third reminder, the ticket is escalated to "manager" once. A resolution at any point
ends the run at once.

Params: {"ticket_id": str, "assignee": str}
Events: "ticket-resolved" with payload {"ticket_id": str}
Tools: chat.dm, tickets.escalate
"""

INTERVAL = "4 hours"
MAX_REMINDERS = 3
ESCALATION_LEVEL = "manager"


async def run(event, step):
    ticket_id = event.payload["ticket_id"]
    assignee = event.payload["assignee"]
    this_ticket = {"ticket_id": ticket_id}

    reminders = 0
    while True:
        try:
            await step.wait_for_event(f"resolution (after {reminders} reminders)",
                                      type="ticket-resolved", timeout=INTERVAL,
                                      match=this_ticket)
            return {"ticket_id": ticket_id, "resolved": True, "reminders": reminders,
                    "escalated": False}
        except EventTimeout:
            pass

        if reminders >= MAX_REMINDERS:
            break

        reminders += 1
        text = (f"Reminder {reminders}: high-priority ticket {ticket_id} is still "
                f"unresolved. Please take a look.")
        await step.do(f"remind {assignee} ({reminders})",
                      lambda text=text: tools.chat.dm(assignee, text))

    await step.do("escalate to manager",
                  lambda: tools.tickets.escalate(ticket_id, ESCALATION_LEVEL))
    return {"ticket_id": ticket_id, "resolved": False, "reminders": reminders,
            "escalated": True}
