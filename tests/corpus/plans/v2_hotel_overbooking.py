"""Resolve an overbooked night at a hotel.

Compares the night's bookings with the hotel's capacity. When overbooked, every
flexible booking gets one move offer (a voucher for another night). Acceptances
("offer-accepted" events) from offered bookings are collected, each at most once, until
enough guests accepted or 6 hours have passed since the offers went out; each accepted
booking is moved once. Bookings still over capacity are relocated to a partner hotel,
the most recently booked of the bookings not moved first.

Params: {"hotel_id": str, "night": "YYYY-MM-DD"}
Events: "offer-accepted" with payload {"booking_id": str}
Tools: bookings.for_night, hotel.capacity, offers.send, bookings.move, partner.relocate
"""

from datetime import datetime, timedelta, timezone

OFFER_WINDOW = timedelta(hours=6)


def booked_at_key(booking):
    when = datetime.fromisoformat(booking["booked_at"].replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when


async def run(event, step):
    hotel_id = event.payload["hotel_id"]
    night = event.payload["night"]

    bookings, capacity = await step.gather(
        step.do("load bookings", lambda: tools.bookings.for_night(hotel_id, night)),
        step.do("load capacity", lambda: tools.hotel.capacity(hotel_id)),
    )
    overbooked = len(bookings) - capacity
    if overbooked <= 0:
        return {"overbooked": max(overbooked, 0), "moved": [], "relocated": []}

    offered = [b["booking_id"] for b in bookings if b.get("flexible")]
    for booking_id in offered:
        await step.do(f"offer {booking_id}",
                      lambda ctx, b=booking_id: tools.offers.send(b, ctx.idempotency_key))

    moved = []
    if offered:
        deadline = (await step.now()) + OFFER_WINDOW
        while len(moved) < overbooked:
            remaining = deadline - (await step.now())
            if remaining.total_seconds() <= 0:
                break
            try:
                accepted = await step.wait_for_event("offer acceptance",
                                                     type="offer-accepted",
                                                     timeout=remaining)
            except EventTimeout:
                break
            booking_id = accepted["payload"].get("booking_id")
            # Only offered bookings count, and each only once.
            if booking_id not in offered or booking_id in moved:
                print(f"ignoring acceptance for {booking_id}")
                continue
            await step.do(f"move {booking_id}",
                          lambda ctx, b=booking_id: tools.bookings.move(
                              b, ctx.idempotency_key))
            moved.append(booking_id)

    still_over = overbooked - len(moved)
    relocated = []
    if still_over > 0:
        candidates = [b for b in bookings if b["booking_id"] not in moved]
        candidates.sort(key=booked_at_key, reverse=True)
        for booking in candidates[:still_over]:
            booking_id = booking["booking_id"]
            await step.do(f"relocate {booking_id}",
                          lambda ctx, b=booking_id: tools.partner.relocate(
                              b, ctx.idempotency_key))
            relocated.append(booking_id)

    return {"overbooked": overbooked, "moved": moved, "relocated": relocated}
