"""Run the onboarding call for a new customer account.

Loads the account, books a 45-minute call and emails the contact a confirmation with
the start time right away. Exactly one hour before the call the contact gets a
reminder. Then the plan waits until 2 hours after the start for a "call-completed"
event about this call: a completed call is logged in the CRM, silence flags the
account as a "no-show".

Params: {"account_id": str}
Events: "call-completed" with payload {"call_id": str, "notes": str}
Tools: crm.account, calendar.book, email.send, crm.log_call, crm.flag
"""

from datetime import datetime, timedelta, timezone

CALL_MINUTES = 45
REMIND_BEFORE = timedelta(hours=1)
COMPLETION_GRACE = timedelta(hours=2)


def parse_utc(text):
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when


async def run(event, step):
    account_id = event.payload["account_id"]

    account = await step.do("load account", lambda: tools.crm.account(account_id))
    contact = account["contact_email"]
    name = account.get("name") or account_id

    call = await step.do("book call", lambda ctx: tools.calendar.book(
        account_id, CALL_MINUTES, ctx.idempotency_key))
    call_id = call["call_id"]
    starts_at_text = call["starts_at"]
    starts_at = parse_utc(starts_at_text)
    when_text = starts_at.strftime("%Y-%m-%d %H:%M UTC")

    await step.do("email confirmation", lambda ctx: tools.email.send(
        contact, "Your onboarding call is booked",
        f"Hello {name},\n\nYour {CALL_MINUTES}-minute onboarding call is booked for "
        f"{when_text}. We look forward to speaking with you.\n\nBest regards,\n"
        "The onboarding team",
        ctx.idempotency_key))

    await step.sleep_until("until one hour before the call", starts_at - REMIND_BEFORE)

    await step.do("email reminder", lambda ctx: tools.email.send(
        contact, "Reminder: your onboarding call starts in one hour",
        f"Hello {name},\n\nA reminder that your onboarding call starts at {when_text}, "
        "in one hour.\n\nBest regards,\nThe onboarding team",
        ctx.idempotency_key))

    deadline = starts_at + COMPLETION_GRACE
    remaining = deadline - (await step.now())
    if remaining.total_seconds() < 1:
        # Past the deadline already: still pick up a completion that was sent in time.
        remaining = timedelta(seconds=1)

    completed = False
    notes = None
    try:
        done = await step.wait_for_event("call completed", type="call-completed",
                                         timeout=remaining, match={"call_id": call_id})
        completed = True
        notes = done["payload"].get("notes")
    except EventTimeout:
        print(f"no completion for call {call_id}; flagging {account_id} as no-show")

    if completed:
        await step.do("log call", lambda ctx: tools.crm.log_call(
            account_id, notes or "", ctx.idempotency_key))
    else:
        await step.do("flag no-show", lambda ctx: tools.crm.flag(
            account_id, "no-show", ctx.idempotency_key))

    return {"account_id": account_id, "call_id": call_id, "starts_at": starts_at_text,
            "completed": completed, "notes": notes}
