"""Hard: three bookings, the last one keeps failing; cancel the others in reverse."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Book a business trip: flight, then hotel, then rental car.

1. `flights.book(traveler, route, idempotency_key)` -> {"booking": str}
2. `hotels.book(traveler, city, nights, idempotency_key)` -> {"booking": str}
3. `cars.book(traveler, city, idempotency_key)` -> {"booking": str}
Each booking API may fail transiently; retry each up to 3 times, 30 seconds apart
(constant delay). If a booking still fails, cancel the bookings already made, in
reverse order, with `flights.cancel(booking)` / `hotels.cancel(booking)` (once each),
tell the traveler with `email.send(to, subject, body)`, and finish with status
"failed". If all succeed, email the traveler the three booking references and finish
with status "booked".

Params (`event.payload`): {"traveler": "rina@example.com", "route": "AMS-LIS", "city":
"Lisbon", "nights": 3}.
No events arrive.

Return: {"status": "booked" | "failed", "bookings": {"flight": str or null, "hotel":
str or null, "car": str or null} (null for what is not booked at the end, including
cancelled bookings), "cancelled": [booking, ...] (in cancellation order), "failed_at":
"flight" | "hotel" | "car" or null}.
"""

PARAMS = {"traveler": "rina@example.com", "route": "AMS-LIS", "city": "Lisbon",
          "nights": 3}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute"), ("advance", "5 minutes")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(active=[], cancelled=[], emails=[])

    def flights_book(traveler: str, route: str, idempotency_key: str = "") -> dict:
        """Book a flight. Returns {"booking": str}."""
        n = rec.call("flights.book", route)
        if n == 1:
            raise ConnectionError("airline gateway timeout")
        rec.once("active", idempotency_key, "FL-1")
        return {"booking": "FL-1"}

    def hotels_book(traveler: str, city: str, nights: int, idempotency_key: str = "") -> dict:
        """Book a hotel. Returns {"booking": str}."""
        rec.call("hotels.book", city)
        rec.once("active", idempotency_key, "HO-1")
        return {"booking": "HO-1"}

    def cars_book(traveler: str, city: str, idempotency_key: str = "") -> dict:
        """Book a rental car. Returns {"booking": str}."""
        rec.call("cars.book", city)
        raise ConnectionError("no cars available from the partner right now")

    def flights_cancel(booking: str) -> dict:
        """Cancel a flight booking. Returns {"ok": True}."""
        rec.call("flights.cancel", booking)
        rec.add("cancelled", booking)
        return {"ok": True}

    def hotels_cancel(booking: str) -> dict:
        """Cancel a hotel booking. Returns {"ok": True}."""
        rec.call("hotels.cancel", booking)
        rec.add("cancelled", booking)
        return {"ok": True}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    return {"flights.book": flights_book, "hotels.book": hotels_book, "cars.book": cars_book,
            "flights.cancel": flights_cancel, "hotels.cancel": hotels_cancel,
            "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"status": "failed",
                      "bookings": {"flight": None, "hotel": None, "car": None},
                      "cancelled": ["HO-1", "FL-1"], "failed_at": "car"}, output
    assert state["cancelled"] == ["HO-1", "FL-1"] and state["emails"] == ["rina@example.com"]
    assert sum(1 for c in state["calls"] if c[0] == "cars.book") == 4
