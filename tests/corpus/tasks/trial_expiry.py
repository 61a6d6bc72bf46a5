"""Medium: wait out a trial unless the customer subscribes; downgrade and tell them."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Handle the end of a free trial.

The account's trial lasts `trial_days` days from the moment this run starts. If the
customer subscribes during the trial, an event of type "subscribed" arrives with payload
{"account_id": str, "plan": str}; only an event for this account counts.

- If "subscribed" arrives before the trial ends: do nothing else and finish.
- If the trial ends without it: downgrade the account with
  `accounts.downgrade(account_id, idempotency_key)` and send one email with
  `email.send(to, subject, body)` to the account's email (from
  `accounts.get(account_id)`) telling them the trial ended. Each exactly once.

Params (`event.payload`): {"account_id": "acct-77", "trial_days": 14}.

Return: {"account_id": str, "outcome": "subscribed" or "downgraded", "plan": str (the
subscribed plan) or null}.
"""

PARAMS = {"account_id": "acct-77", "trial_days": 14}


def _nothing_yet(state: dict[str, Any]) -> None:
    assert state["downgrades"] == [] and state["emails"] == [], "acted before the trial ended"


SCENARIO: list[tuple[Any, ...]] = [
    ("event", "subscribed", {"account_id": "acct-12", "plan": "pro"}),
    ("advance", "13 days"), ("probe", _nothing_yet),
    ("advance", "2 days"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(downgrades=[], emails=[])

    def accounts_get(account_id: str) -> dict:
        """Fetch an account. Returns {"id": str, "email": str, "plan": str}."""
        rec.call("accounts.get", account_id)
        return {"id": account_id, "email": "owner@acct77.example", "plan": "trial"}

    def accounts_downgrade(account_id: str, idempotency_key: str = "") -> dict:
        """Move an account to the free plan. Returns {"plan": "free"}."""
        rec.call("accounts.downgrade", account_id)
        rec.once("downgrades", idempotency_key, account_id)
        return {"plan": "free"}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", {"to": to, "subject": subject})
        return {"message_id": rec.next_id("M")}

    return {"accounts.get": accounts_get, "accounts.downgrade": accounts_downgrade,
            "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"account_id": "acct-77", "outcome": "downgraded", "plan": None}, output
    assert state["downgrades"] == ["acct-77"], state["downgrades"]
    assert [e["to"] for e in state["emails"]] == ["owner@acct77.example"], state["emails"]
