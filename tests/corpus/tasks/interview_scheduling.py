"""Hard: a chosen slot event, booking, reminders at computed times before the slot."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Schedule a job interview and send reminders.

1. Get the interviewer's free slots with `calendar.slots(interviewer)`: a list of
   ISO-8601 start times (UTC, e.g. "2026-01-06T15:00:00+00:00").
2. Email them to the candidate with `email.send(to, subject, body)` (to: the
   `candidate_email` param).
3. Wait up to 2 days for an event "slot-chosen" with payload {"candidate_id": str,
   "slot": str (one of the offered ISO times)}; only this candidate counts. No answer:
   finish with status "no_response".
4. Book it with `calendar.book(interviewer, slot, idempotency_key)`.
5. Remind the candidate by email exactly 24 hours before the slot, and the interviewer
   with `chat.dm(user, text)` exactly 1 hour before the slot. Then finish with status
   "scheduled" (do not wait for the interview itself).

Params (`event.payload`): {"candidate_id": "cand-7", "candidate_email":
"lin@example.com", "interviewer": "omar"}.

Return: {"candidate_id": str, "status": "scheduled" | "no_response", "slot": str or
null (as chosen), "reminders": int (reminders sent)}.
"""

PARAMS = {"candidate_id": "cand-7", "candidate_email": "lin@example.com",
          "interviewer": "omar"}
SLOTS = ["2026-01-05T10:00:00+00:00", "2026-01-06T15:00:00+00:00",
         "2026-01-07T09:30:00+00:00"]


def _probe(emails: int, dms: int) -> Any:
    def probe(state: dict[str, Any]) -> None:
        assert (len(state["emails"]), len(state["dms"])) == (emails, dms), state
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "5 hours"),
    ("event", "slot-chosen", {"candidate_id": "cand-7", "slot": SLOTS[1]}),
    ("advance", "4 days"), ("probe", _probe(1, 0)),       # Jan 5 05:00
    ("advance", "9 hours"), ("probe", _probe(1, 0)),      # Jan 5 14:00
    ("advance", "61 minutes"), ("probe", _probe(2, 0)),   # Jan 5 15:01
    ("advance", "22 hours"), ("probe", _probe(2, 0)),     # Jan 6 13:01
    ("advance", "2 hours"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], dms=[], bookings=[])

    def calendar_slots(interviewer: str) -> list:
        """Free interview slots of a person: a list of ISO-8601 UTC start times."""
        rec.call("calendar.slots", interviewer)
        return list(SLOTS)

    def calendar_book(interviewer: str, slot: str, idempotency_key: str = "") -> dict:
        """Book an interview slot. Returns {"event_id": str}."""
        rec.call("calendar.book", slot)
        rec.once("bookings", idempotency_key, slot)
        return {"event_id": "EV-1"}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    def chat_dm(user: str, text: str) -> dict:
        """Send a direct chat message. Returns {"ts": str}."""
        rec.call("chat.dm", user)
        rec.add("dms", user)
        return {"ts": rec.next_id("ts")}

    return {"calendar.slots": calendar_slots, "calendar.book": calendar_book,
            "email.send": email_send, "chat.dm": chat_dm}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"candidate_id": "cand-7", "status": "scheduled", "slot": SLOTS[1],
                      "reminders": 2}, output
    assert state["bookings"] == [SLOTS[1]]
    assert state["emails"] == ["lin@example.com", "lin@example.com"]
    assert state["dms"] == ["omar"]
