"""Medium: hold a seat (transient errors), wait for a signature with one reminder."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Enrol a student once their guardian signs the contract.

1. Hold a seat with `seats.hold(school_id, grade, application_id, idempotency_key)` ->
   {"hold_id": str}. The seat service is flaky; retry it (the default policy is fine).
2. Email the guardian the contract with `email.send(to, subject, body,
   idempotency_key)`.
3. Wait up to 3 days for the event "guardian-signed", payload {"application_id": str},
   for this application. If it does not come, email the guardian one reminder and wait
   4 more days.
4. Signed: confirm with `enrolment.confirm(application_id, hold_id, idempotency_key)` ->
   {"student_number": str}. Never signed: release the seat with `seats.release(hold_id)`
   (once) and email the guardian that the application lapsed.

Params (`event.payload`): {"application_id": "APP-2026-114", "school_id": "north-high",
"grade": 9, "guardian_email": "parent@home.example"}.

Return: {"application_id": str, "status": "enrolled" | "lapsed", "student_number": str |
null, "reminded": bool}.
"""

PARAMS = {"application_id": "APP-2026-114", "school_id": "north-high", "grade": 9,
          "guardian_email": "parent@home.example"}


def _emails(count: int) -> Any:
    def probe(state: dict[str, Any]) -> None:
        assert len(state["emails"]) == count, state["emails"]
        assert state["confirmed"] == [], state["confirmed"]
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 day"), ("probe", _emails(1)),
    ("event", "guardian-signed", {"application_id": "APP-2026-099"}),
    ("advance", "2 days"), ("advance", "1 hour"), ("probe", _emails(2)),
    ("advance", "2 days"),
    ("event", "guardian-signed", {"application_id": "APP-2026-114"}),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(holds=[], emails=[], confirmed=[], released=[])

    def seats_hold(school_id: str, grade: int, application_id: str,
                   idempotency_key: str = "") -> dict:
        """Hold a seat for an application. Returns {"hold_id": str}.

        Raises ConnectionError when the seat service is busy (retrying helps).
        """
        if rec.call("seats.hold", school_id, grade, application_id) <= 2:
            raise ConnectionError("seat service busy")
        rec.once("holds", idempotency_key, (school_id, grade, application_id))
        return {"hold_id": "hold-31"}

    def seats_release(hold_id: str) -> dict:
        """Release a held seat. Returns {"ok": True}."""
        rec.call("seats.release", hold_id)
        rec.add("released", hold_id)
        return {"ok": True}

    def email_send(to: str, subject: str, body: str, idempotency_key: str = "") -> dict:
        """Send an email once per idempotency key. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.once("emails", idempotency_key, to)
        return {"message_id": rec.next_id("M")}

    def enrolment_confirm(application_id: str, hold_id: str,
                          idempotency_key: str = "") -> dict:
        """Turn a held seat into an enrolment. Returns {"student_number": str}."""
        rec.call("enrolment.confirm", application_id, hold_id)
        rec.once("confirmed", idempotency_key, (application_id, hold_id))
        return {"student_number": "S-90417"}

    return {"seats.hold": seats_hold, "seats.release": seats_release,
            "email.send": email_send, "enrolment.confirm": enrolment_confirm}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"application_id": "APP-2026-114", "status": "enrolled",
                      "student_number": "S-90417", "reminded": True}, output
    assert state["holds"] == [("north-high", 9, "APP-2026-114")], state["holds"]
    assert state["emails"] == ["parent@home.example"] * 2, state["emails"]
    assert state["confirmed"] == [("APP-2026-114", "hold-31")] and state["released"] == []
