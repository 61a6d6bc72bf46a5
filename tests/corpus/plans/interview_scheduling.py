"""Schedule a job interview: offer slots, book the chosen one, send timed reminders.

The interviewer's free slots are emailed to the candidate, who has 2 days to answer with
a "slot-chosen" event (events for other candidates are ignored). Silence ends the run
with status "no_response". The chosen slot is booked, the candidate gets an email
reminder exactly 24 hours before it and the interviewer a chat message exactly 1 hour
before it; then the run finishes with status "scheduled". A reminder whose moment has
already passed when the slot is booked is skipped rather than sent at the wrong time.

Params: {"candidate_id": str, "candidate_email": str, "interviewer": str}
Events: "slot-chosen" with payload {"candidate_id": str, "slot": str (ISO-8601 UTC)}
Tools: calendar.slots, calendar.book, email.send, chat.dm
"""

from datetime import datetime, timedelta, timezone

ANSWER_WINDOW = "2 days"
CANDIDATE_REMINDER_BEFORE = timedelta(hours=24)
INTERVIEWER_REMINDER_BEFORE = timedelta(hours=1)


def parse_time(text):
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


async def run(event, step):
    candidate_id = event.payload["candidate_id"]
    candidate_email = event.payload["candidate_email"]
    interviewer = event.payload["interviewer"]

    slots = await step.do(f"free slots of {interviewer}",
                          lambda: tools.calendar.slots(interviewer))

    body = (f"Hello, please choose one of these interview slots with {interviewer} "
            f"(times in UTC):\n" + "\n".join(f"- {slot}" for slot in slots))
    await step.do("email slots to candidate", lambda: tools.email.send(
        candidate_email, "Please choose your interview slot", body))

    try:
        choice = await step.wait_for_event("candidate picks a slot", type="slot-chosen",
                                           timeout=ANSWER_WINDOW,
                                           match={"candidate_id": candidate_id})
    except EventTimeout:
        print(f"{candidate_id} did not choose a slot within {ANSWER_WINDOW}")
        return {"candidate_id": candidate_id, "status": "no_response", "slot": None,
                "reminders": 0}

    slot = choice["payload"]["slot"]
    start = parse_time(slot)

    await step.do(f"book {slot}", lambda ctx: tools.calendar.book(
        interviewer, slot, ctx.idempotency_key))

    booked_at = await step.now()
    reminders = 0

    candidate_remind_at = start - CANDIDATE_REMINDER_BEFORE
    if candidate_remind_at >= booked_at:
        await step.sleep_until("until 24 hours before the interview", candidate_remind_at)
        await step.do("remind candidate", lambda: tools.email.send(
            candidate_email, "Interview reminder: tomorrow",
            f"Reminder: your interview with {interviewer} starts at {slot} (UTC)."))
        reminders += 1
    else:
        print(f"slot {slot} is less than 24 hours away; candidate reminder skipped")

    interviewer_remind_at = start - INTERVIEWER_REMINDER_BEFORE
    if interviewer_remind_at >= booked_at:
        await step.sleep_until("until 1 hour before the interview", interviewer_remind_at)
        await step.do("remind interviewer", lambda: tools.chat.dm(
            interviewer, f"Reminder: interview with candidate {candidate_id} in 1 hour "
                         f"({slot} UTC)."))
        reminders += 1
    else:
        print(f"slot {slot} is less than 1 hour away; interviewer reminder skipped")

    return {"candidate_id": candidate_id, "status": "scheduled", "slot": slot,
            "reminders": reminders}
