"""Medium: offers to flexible guests, collect acceptances with a deadline, relocate rest."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Resolve an overbooked night at a hotel.

1. Get the night's bookings with `bookings.for_night(hotel_id, night)` -> a list of
   {"booking_id": str, "guest_email": str, "booked_at": ISO-8601 datetime, "flexible":
   bool} and the room count with `hotel.capacity(hotel_id)` -> int. overbooked = number
   of bookings - capacity. Not overbooked: do nothing more.
2. Send a move offer (a voucher for another night) to every flexible booking once with
   `offers.send(booking_id, idempotency_key)`.
3. Guests accept with the event "offer-accepted", payload {"booking_id": str}. Only
   offered bookings count, each at most once. Collect acceptances until `overbooked`
   bookings have accepted or 6 hours have passed since the offers went out. Move each
   accepted booking once with `bookings.move(booking_id, idempotency_key)`.
4. If still overbooked after that, relocate as many bookings as are still over capacity
   to a partner hotel with `partner.relocate(booking_id, idempotency_key)`, choosing
   among the bookings not moved the most recently booked first.

Params (`event.payload`): {"hotel_id": "H-LIS", "night": "2026-01-10"}.

Return: {"overbooked": int, "moved": [booking_id, ...] (in acceptance order),
"relocated": [booking_id, ...] (most recently booked first)}.
"""

PARAMS = {"hotel_id": "H-LIS", "night": "2026-01-10"}
BOOKED = {"B1": "01", "B2": "02", "B3": "03", "B4": "04", "B5": "20", "B6": "06",
          "B7": "07", "B8": "08"}
FLEXIBLE = {"B2", "B5", "B7"}


def _accept(booking: str) -> tuple[Any, ...]:
    return ("event", "offer-accepted", {"booking_id": booking})


def _nothing_relocated(state: dict[str, Any]) -> None:
    assert state["relocated"] == [], state["relocated"]


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 hour"), _accept("B5"),
    ("advance", "1 hour"), _accept("B9"), _accept("B5"), _accept("B3"),
    ("advance", "3 hours"), ("probe", _nothing_relocated),
    ("advance", "2 hours"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(offers=[], moved=[], relocated=[])

    def bookings_for_night(hotel_id: str, night: str) -> list:
        """Bookings staying a night: [{"booking_id", "guest_email", "booked_at",
        "flexible"}]."""
        rec.call("bookings.for_night", hotel_id, night)
        return [{"booking_id": b, "guest_email": f"{b.lower()}@guest.example",
                 "booked_at": f"2025-12-{day}T10:00:00+00:00", "flexible": b in FLEXIBLE}
                for b, day in BOOKED.items()]

    def hotel_capacity(hotel_id: str) -> int:
        """How many rooms a hotel has."""
        rec.call("hotel.capacity", hotel_id)
        return 5

    def offers_send(booking_id: str, idempotency_key: str = "") -> dict:
        """Offer a guest a voucher to move to another night. Returns {"offer_id": str}."""
        rec.call("offers.send", booking_id)
        rec.once("offers", idempotency_key, booking_id)
        return {"offer_id": f"of-{booking_id}"}

    def bookings_move(booking_id: str, idempotency_key: str = "") -> dict:
        """Move a booking to the night the guest chose. Returns {"ok": True}."""
        rec.call("bookings.move", booking_id)
        rec.once("moved", idempotency_key, booking_id)
        return {"ok": True}

    def partner_relocate(booking_id: str, idempotency_key: str = "") -> dict:
        """Book the guest into a partner hotel. Returns {"partner_booking": str}."""
        rec.call("partner.relocate", booking_id)
        rec.once("relocated", idempotency_key, booking_id)
        return {"partner_booking": f"P-{booking_id}"}

    return {"bookings.for_night": bookings_for_night, "hotel.capacity": hotel_capacity,
            "offers.send": offers_send, "bookings.move": bookings_move,
            "partner.relocate": partner_relocate}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"overbooked": 3, "moved": ["B5"], "relocated": ["B8", "B7"]}, output
    assert sorted(state["offers"]) == ["B2", "B5", "B7"], state["offers"]
    assert state["moved"] == ["B5"], state["moved"]
    assert sorted(state["relocated"]) == ["B7", "B8"], state["relocated"]
