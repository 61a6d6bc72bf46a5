"""Medium: book a call, remind an hour before it, wait for completion until 2 h after."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Run the onboarding call for a new customer account.

1. Load the account with `crm.account(account_id)` -> {"name": str, "contact_email":
   str}.
2. Book a 45-minute call with `calendar.book(account_id, duration_minutes,
   idempotency_key)` -> {"call_id": str, "starts_at": ISO-8601 UTC datetime}.
3. Right away, email the contact a confirmation with `email.send(to, subject, body,
   idempotency_key)` giving the start time.
4. Exactly one hour before `starts_at`, email the contact a reminder.
5. Wait for the event "call-completed" with payload {"call_id": str, "notes": str} for
   this call (events about other calls do not count) until 2 hours after `starts_at`.
   Completed: log it with `crm.log_call(account_id, notes, idempotency_key)`. No event
   by then: `crm.flag(account_id, reason, idempotency_key)` with reason "no-show".

Params (`event.payload`): {"account_id": "acct-88"}.

Return: {"account_id": str, "call_id": str, "starts_at": str (as booked), "completed":
bool, "notes": str | null}.
"""

PARAMS = {"account_id": "acct-88"}
STARTS_AT = "2026-01-05T15:00:00+00:00"


def _emails(count: int) -> Any:
    def probe(state: dict[str, Any]) -> None:
        assert len(state["emails"]) == count, state["emails"]
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "4 days"), ("probe", _emails(1)),
    ("advance", "13 hours"), ("advance", "55 minutes"), ("probe", _emails(1)),
    ("advance", "10 minutes"), ("probe", _emails(2)),
    ("event", "call-completed", {"call_id": "call-OTHER", "notes": "wrong call"}),
    ("advance", "1 hour"),
    ("event", "call-completed", {"call_id": "call-501", "notes": "SSO set up"}),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(bookings=[], emails=[], logged=[], flags=[])

    def crm_account(account_id: str) -> dict:
        """An account: {"name": str, "contact_email": str}."""
        rec.call("crm.account", account_id)
        return {"name": "Globex", "contact_email": "it@globex.example"}

    def calendar_book(account_id: str, duration_minutes: int,
                      idempotency_key: str = "") -> dict:
        """Book a call slot. Returns {"call_id": str, "starts_at": ISO-8601 UTC}."""
        rec.call("calendar.book", account_id, duration_minutes)
        rec.once("bookings", idempotency_key, duration_minutes)
        return {"call_id": "call-501", "starts_at": STARTS_AT}

    def email_send(to: str, subject: str, body: str, idempotency_key: str = "") -> dict:
        """Send an email once per idempotency key. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.once("emails", idempotency_key, to)
        return {"message_id": rec.next_id("M")}

    def crm_log_call(account_id: str, notes: str, idempotency_key: str = "") -> dict:
        """Log a completed call on an account. Returns {"ok": True}."""
        rec.call("crm.log_call", account_id)
        rec.once("logged", idempotency_key, (account_id, notes))
        return {"ok": True}

    def crm_flag(account_id: str, reason: str, idempotency_key: str = "") -> dict:
        """Flag an account for follow-up. Returns {"ok": True}."""
        rec.call("crm.flag", account_id)
        rec.once("flags", idempotency_key, (account_id, reason))
        return {"ok": True}

    return {"crm.account": crm_account, "calendar.book": calendar_book,
            "email.send": email_send, "crm.log_call": crm_log_call,
            "crm.flag": crm_flag}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"account_id": "acct-88", "call_id": "call-501", "starts_at": STARTS_AT,
                      "completed": True, "notes": "SSO set up"}, output
    assert state["bookings"] == [45], state["bookings"]
    assert state["emails"] == ["it@globex.example"] * 2, state["emails"]
    assert state["logged"] == [("acct-88", "SSO set up")] and state["flags"] == []
