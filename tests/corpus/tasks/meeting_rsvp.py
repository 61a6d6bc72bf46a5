"""Hard: invitations, RSVPs until all answered or a deadline, one reminder round."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Collect RSVPs for a meeting.

1. Invite every attendee with `calendar.invite(meeting_id, attendee, idempotency_key)`.
2. Collect events "rsvp" with payload {"meeting_id": str, "attendee": str, "response":
   "yes" | "no"}; only this meeting and invited attendees count; an attendee's latest
   response wins.
3. Stop collecting as soon as every attendee has answered, or after 48 hours from the
   start. At 48 hours, if some have not answered, send each of them one reminder with
   `email.send(to, subject, body)` (attendees are email addresses) and collect for 24
   more hours (until 72 hours from the start), again stopping early once everyone has
   answered.
4. Finalize with `calendar.finalize(meeting_id, attendees)` with the list of attendees
   who said yes (in invitation order).

Params (`event.payload`): {"meeting_id": "MTG-5", "attendees": ["a@x.example",
"b@x.example", "c@x.example", "d@x.example"]}.

Return: {"meeting_id": str, "yes": [attendee, ...], "no": [attendee, ...],
"no_answer": [attendee, ...], "reminded": [attendee, ...]} (all lists in invitation
order).
"""

PARAMS = {"meeting_id": "MTG-5", "attendees": ["a@x.example", "b@x.example", "c@x.example",
                                               "d@x.example"]}


def _rsvp(who: str, response: str, meeting: str = "MTG-5") -> tuple[Any, ...]:
    return ("event", "rsvp", {"meeting_id": meeting, "attendee": who, "response": response})


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 hour"), _rsvp("b@x.example", "yes"), _rsvp("z@x.example", "yes"),
    ("advance", "1 day"), _rsvp("c@x.example", "yes"), _rsvp("b@x.example", "no"),
    _rsvp("a@x.example", "yes", "MTG-4"),
    ("advance", "1 day"), ("probe", lambda s: _reminded(s, 2)),
    _rsvp("a@x.example", "yes"),
    ("advance", "2 days"),
]


def _reminded(state: dict[str, Any], count: int) -> None:
    assert sorted(state["emails"]) == ["a@x.example", "d@x.example"][:count], state["emails"]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(invites=[], emails=[], finalized=[])

    def calendar_invite(meeting_id: str, attendee: str, idempotency_key: str = "") -> dict:
        """Send a calendar invitation. Returns {"ok": True}."""
        rec.call("calendar.invite", attendee)
        rec.once("invites", idempotency_key, attendee)
        return {"ok": True}

    def calendar_finalize(meeting_id: str, attendees: list) -> dict:
        """Fix a meeting's attendee list. Returns {"ok": True}."""
        rec.call("calendar.finalize", meeting_id)
        rec.add("finalized", list(attendees))
        return {"ok": True}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    return {"calendar.invite": calendar_invite, "calendar.finalize": calendar_finalize,
            "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"meeting_id": "MTG-5", "yes": ["a@x.example", "c@x.example"],
                      "no": ["b@x.example"], "no_answer": ["d@x.example"],
                      "reminded": ["a@x.example", "d@x.example"]}, output
    assert sorted(state["invites"]) == sorted(PARAMS["attendees"])
    assert sorted(state["emails"]) == ["a@x.example", "d@x.example"]
    assert state["finalized"] == [["a@x.example", "c@x.example"]]
