"""Book a business trip as a saga: flight, then hotel, then rental car.

Each booking is retried up to 3 times, 30 seconds apart, and carries an idempotency key
so a retry cannot book twice. If a booking still fails, the bookings already made are
cancelled in reverse order (once each), the traveler is told, and the run ends with
status "failed". Otherwise the traveler gets the three booking references.

Params: {"traveler": str (email address), "route": str, "city": str, "nights": int}
Events: none
Tools: flights.book, flights.cancel, hotels.book, hotels.cancel, cars.book, email.send
"""

BOOK_RETRIES = {"limit": 3, "delay": "30 seconds", "backoff": "constant"}


async def run(event, step):
    traveler = event.payload["traveler"]
    route = event.payload["route"]
    city = event.payload["city"]
    nights = int(event.payload["nights"])

    legs = [
        ("flight", lambda ctx: tools.flights.book(traveler, route, ctx.idempotency_key)),
        ("hotel", lambda ctx: tools.hotels.book(traveler, city, nights, ctx.idempotency_key)),
        ("car", lambda ctx: tools.cars.book(traveler, city, ctx.idempotency_key)),
    ]
    cancellers = {
        "flight": lambda booking: tools.flights.cancel(booking),
        "hotel": lambda booking: tools.hotels.cancel(booking),
    }

    bookings = {"flight": None, "hotel": None, "car": None}
    made = []
    failed_at = None

    for kind, book in legs:
        try:
            result = await step.do(f"book {kind}", book, retries=BOOK_RETRIES)
        except StepFailed as err:
            print(f"booking the {kind} failed: {err.cause}: {err.message}")
            failed_at = kind
            break
        bookings[kind] = result["booking"]
        made.append(kind)

    if failed_at is None:
        body = (f"Your trip is booked.\n"
                f"Flight {route}: {bookings['flight']}\n"
                f"Hotel in {city}, {nights} nights: {bookings['hotel']}\n"
                f"Rental car in {city}: {bookings['car']}")
        await step.do("email itinerary", lambda: tools.email.send(
            traveler, "Your trip is booked", body))
        return {"status": "booked", "bookings": bookings, "cancelled": [],
                "failed_at": None}

    cancelled = []
    for kind in reversed(made):
        booking = bookings[kind]
        await step.do(f"cancel {kind} {booking}",
                      lambda kind=kind, booking=booking: cancellers[kind](booking))
        cancelled.append(booking)
        bookings[kind] = None

    body = (f"We could not book the {failed_at} for your trip ({route}, {city}, "
            f"{nights} nights), so nothing is booked."
            + (f" Cancelled: {', '.join(cancelled)}." if cancelled else ""))
    await step.do("email failure", lambda: tools.email.send(
        traveler, "Your trip could not be booked", body))

    return {"status": "failed", "bookings": bookings, "cancelled": cancelled,
            "failed_at": failed_at}
