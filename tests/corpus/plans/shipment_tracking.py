"""Keep a customer informed about their parcel until it is delivered.

Polls the carrier right away and then every 6 hours, at most 20 times, stopping once the
status is "delivered". Every time the status differs from the previous poll's (the first
poll counts as a change) the customer gets one text naming the new status; each text is
its own saved step, so a replay never texts twice for the same change.

Params: {"tracking_number": str, "phone": str}
Events: none
Tools: carrier.status, sms.send
"""

MAX_POLLS = 20
POLL_INTERVAL = "6 hours"
DELIVERED = "delivered"


async def run(event, step):
    tracking_number = event.payload["tracking_number"]
    phone = event.payload["phone"]

    notified = []
    previous = None
    polls = 0
    delivered = False

    for poll in range(1, MAX_POLLS + 1):
        if poll > 1:
            await step.sleep(f"wait before poll {poll}", POLL_INTERVAL)

        current = await step.do(f"poll {poll}",
                                lambda: tools.carrier.status(tracking_number))
        polls = poll
        status = current.get("status")
        location = current.get("location")

        if status != previous:
            text = f"Your parcel {tracking_number} is now: {status}"
            if location:
                text = f"{text} ({location})"
            await step.do(f"text status {status} (poll {poll})",
                          lambda text=text: tools.sms.send(phone, text))
            notified.append(status)
        previous = status

        if status == DELIVERED:
            delivered = True
            break

    return {"tracking_number": tracking_number, "delivered": delivered, "polls": polls,
            "notified": notified}
