"""Collect RSVPs for a meeting, remind the silent ones once, then finalize.

Invite every attendee (idempotency key per invitation), then collect "rsvp" events for
this meeting from invited attendees (latest response wins) until everyone has answered
or 48 hours from the start have passed. Whoever has not answered by then gets one email
reminder, and collection goes on until 72 hours from the start, again stopping early once
everyone has answered. Finally the meeting is finalized with the attendees who said yes.

Params: {"meeting_id": str, "attendees": [str, ...]}  (attendees are email addresses)
Events: "rsvp" with payload {"meeting_id": str, "attendee": str, "response": "yes" | "no"}
Tools: calendar.invite, email.send, calendar.finalize
"""

from datetime import timedelta

FIRST_DEADLINE_HOURS = 48
FINAL_DEADLINE_HOURS = 72


async def run(event, step):
    meeting_id = event.payload["meeting_id"]
    attendees = list(event.payload["attendees"])
    invited = set(attendees)
    this_meeting = {"meeting_id": meeting_id}
    started = event.timestamp

    for attendee in attendees:
        await step.do(f"invite {attendee}", lambda ctx, attendee=attendee:
                      tools.calendar.invite(meeting_id, attendee, ctx.idempotency_key))

    responses = {}

    async def collect_until(deadline, label):
        while len(responses) < len(invited):
            now = await step.now()
            remaining = (deadline - now).total_seconds()
            if remaining <= 0:
                return
            try:
                rsvp = await step.wait_for_event(f"rsvp ({label})", type="rsvp",
                                                 timeout=remaining, match=this_meeting)
            except EventTimeout:
                return
            payload = rsvp["payload"]
            attendee = payload.get("attendee")
            response = payload.get("response")
            if attendee in invited and response in ("yes", "no"):
                responses[attendee] = response
            else:
                print(f"ignoring rsvp {payload}")

    await collect_until(started + timedelta(hours=FIRST_DEADLINE_HOURS), "first 48h")

    reminded = [a for a in attendees if a not in responses]
    for attendee in reminded:
        await step.do(f"remind {attendee}", lambda attendee=attendee: tools.email.send(
            attendee,
            f"Please answer the invitation to {meeting_id}",
            f"You have not yet answered the invitation to meeting {meeting_id}. "
            f"Please reply yes or no within 24 hours."))

    if reminded:
        await collect_until(started + timedelta(hours=FINAL_DEADLINE_HOURS),
                            "after reminder")

    yes = [a for a in attendees if responses.get(a) == "yes"]
    no = [a for a in attendees if responses.get(a) == "no"]
    no_answer = [a for a in attendees if a not in responses]

    await step.do("finalize", lambda: tools.calendar.finalize(meeting_id, yes))

    return {"meeting_id": meeting_id, "yes": yes, "no": no, "no_answer": no_answer,
            "reminded": reminded}
