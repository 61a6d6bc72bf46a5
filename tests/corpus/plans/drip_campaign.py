"""Run an onboarding email sequence for a new user until they convert.

Templates go out on day 0 ("welcome"), 2 ("tips"), 5 ("case-study") and 9 ("discount"),
counted from when the run started. Between sends the plan waits for this user's
"converted" event; as soon as it arrives nothing more is sent and the run finishes.
Every send carries an idempotency key, so each email goes out at most once.

Params: {"user_id": str, "email": str}
Events: "converted" with payload {"user_id": str, "plan": str}
Tools: email.send_template
"""

from datetime import timedelta

SCHEDULE = [
    [0, "welcome"],
    [2, "tips"],
    [5, "case-study"],
    [9, "discount"],
]


async def run(event, step):
    user_id = event.payload["user_id"]
    to = event.payload["email"]
    this_user = {"user_id": user_id}
    started = event.timestamp

    sent = []
    for day, template in SCHEDULE:
        if day > 0:
            due = started + timedelta(days=day)
            now = await step.now()
            remaining = (due - now).total_seconds()
            # Wait until the send time, but wake up at once on a conversion. Even when
            # the send time has already passed, look briefly for a buffered conversion.
            try:
                converted = await step.wait_for_event(
                    f"conversion before {template}", type="converted",
                    timeout=max(remaining, 1), match=this_user)
            except EventTimeout:
                converted = None
            if converted is not None:
                return {"user_id": user_id, "sent": sent, "converted": True,
                        "plan": converted["payload"].get("plan")}

        await step.do(f"send {template}", lambda ctx, template=template:
                      tools.email.send_template(to, template, ctx.idempotency_key))
        sent.append(template)

    return {"user_id": user_id, "sent": sent, "converted": False, "plan": None}
