"""Hard: notice 60 days before an ISO end date, decision event with a weekly reminder."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Manage a customer contract's renewal.

1. Read the contract with `contracts.get(contract_id)`: {"id": str, "end_date":
   "YYYY-MM-DD", "owner_email": str, "customer": str}.
2. At 09:00 UTC, 60 days before the end date, email the account owner with
   `email.send(to, subject, body)` asking for a renewal decision (not before).
3. Wait up to 7 days for an event "renewal-decision" with payload {"contract_id": str,
   "decision": "renew" | "cancel"} for this contract. If none arrives, send the owner one
   reminder email and wait up to 7 more days. Still none: flag the contract with
   `contracts.flag_at_risk(contract_id)` and finish with decision null.
4. "renew": renew with `contracts.renew(contract_id, new_end_date)` where the new end
   date is the same day one year after the current end date ("YYYY-MM-DD").
   "cancel": nothing more to do.

Params (`event.payload`): {"contract_id": "K-88"}.

Return: {"contract_id": str, "notice_sent_on": "YYYY-MM-DD", "decision": "renew" |
"cancel" | null, "reminded": bool, "new_end_date": str or null}.
"""

PARAMS = {"contract_id": "K-88"}


def _not_yet(state: dict[str, Any]) -> None:
    assert state["emails"] == [], "the renewal notice went out too early"


# End 2026-03-15: notice 2026-01-14 09:00 UTC, reminder 2026-01-21 09:00 UTC.
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "13 days"), ("advance", "8 hours"), ("probe", _not_yet),
    ("advance", "2 hours"),
    ("event", "renewal-decision", {"contract_id": "K-10", "decision": "cancel"}),
    ("advance", "7 days"),
    ("event", "renewal-decision", {"contract_id": "K-88", "decision": "renew"}),
    ("advance", "10 days"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], renewals=[], flagged=[])

    def contracts_get(contract_id: str) -> dict:
        """Read a contract.

        Returns {"id": str, "end_date": str (YYYY-MM-DD), "owner_email": str,
        "customer": str}.
        """
        rec.call("contracts.get", contract_id)
        return {"id": contract_id, "end_date": "2026-03-15", "owner_email": "am@corp.example",
                "customer": "Initech"}

    def contracts_renew(contract_id: str, new_end_date: str) -> dict:
        """Renew a contract until a new end date. Returns {"ok": True}."""
        rec.call("contracts.renew", contract_id)
        rec.add("renewals", new_end_date)
        return {"ok": True}

    def contracts_flag_at_risk(contract_id: str) -> dict:
        """Flag a contract as at risk of churning. Returns {"ok": True}."""
        rec.call("contracts.flag_at_risk", contract_id)
        rec.add("flagged", contract_id)
        return {"ok": True}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    return {"contracts.get": contracts_get, "contracts.renew": contracts_renew,
            "contracts.flag_at_risk": contracts_flag_at_risk, "email.send": email_send}, \
        rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"contract_id": "K-88", "notice_sent_on": "2026-01-14",
                      "decision": "renew", "reminded": True,
                      "new_end_date": "2027-03-15"}, output
    assert state["emails"] == ["am@corp.example", "am@corp.example"]
    assert state["renewals"] == ["2027-03-15"] and state["flagged"] == []
