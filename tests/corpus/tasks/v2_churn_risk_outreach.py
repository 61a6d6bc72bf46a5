"""Hard: per-account helpers that score, email and wait for a correlated event each."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Reach out to customer accounts at risk of churning. Handle the accounts in parallel;
for each account:

1. Get 8 weeks of weekly active users with `usage.weekly_active(account_id)` -> list
   of 8 ints (oldest first) and billing data with `billing.account(account_id)` ->
   {"mrr": str (decimal), "renewal_date": "YYYY-MM-DD", "admin_email": str}.
2. The account is at "high" risk when the average of the last 4 weeks is below 60% of
   the average of the first 4 weeks, and the renewal date is at most 60 days after the
   date the run started (UTC); otherwise "low". Low-risk accounts need nothing more.
3. High risk: email the admin once with `email.send(to, subject, body,
   idempotency_key)` offering a check-in call, then wait up to 5 days for the event
   "meeting-booked", payload {"account_id": str}, for this account. Booked: note it
   with `crm.note(account_id, text, idempotency_key)`, outcome "booked". Not booked:
   create a task for the customer success manager with `tasks.create(assignee,
   account_id, title, idempotency_key)` (assignee = `csm`), outcome "csm_task".

Params (`event.payload`): {"accounts": ["acc-1", "acc-2", "acc-3", "acc-4", "acc-5"],
"csm": "jo@corp.example"}.

Return: {"accounts": [{"account_id": str, "risk": "high" | "low", "outcome": "booked" |
"csm_task" | null (null when low)}, ...] (in input order), "mrr_at_risk": str (exact
sum of the high-risk accounts' mrr, 2 decimals)}.
"""

PARAMS = {"accounts": ["acc-1", "acc-2", "acc-3", "acc-4", "acc-5"],
          "csm": "jo@corp.example"}
USAGE = {"acc-1": [100, 100, 100, 100, 50, 50, 60, 50],
         "acc-2": [10] * 8,
         "acc-3": [80, 80, 80, 80, 40, 40, 40, 40],
         "acc-4": [50, 60, 70, 60, 30, 30, 30, 30],
         "acc-5": [0] * 8}
BILLING = {"acc-1": ("1200.00", "2026-02-15"), "acc-2": ("99.00", "2026-01-20"),
           "acc-3": ("640.00", "2026-03-15"), "acc-4": ("850.50", "2026-03-02"),
           "acc-5": ("10.00", "2026-01-10")}


def _after(notes: list[str], tasks: list[str]) -> Any:
    def probe(state: dict[str, Any]) -> None:
        assert [n[0] for n in state["notes"]] == notes, state["notes"]
        assert [t[1] for t in state["tasks"]] == tasks, state["tasks"]
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 day"), ("event", "meeting-booked", {"account_id": "acc-2"}),
    ("advance", "1 day"), ("event", "meeting-booked", {"account_id": "acc-1"}),
    ("advance", "2 days"), ("probe", _after(["acc-1"], [])),
    ("advance", "2 days"), ("probe", _after(["acc-1"], ["acc-4"])),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], notes=[], tasks=[])

    async def usage_weekly_active(account_id: str) -> list:
        """Weekly active users over the last 8 weeks, oldest first."""
        rec.call("usage.weekly_active", account_id)
        return list(USAGE[account_id])

    async def billing_account(account_id: str) -> dict:
        """Billing data: {"mrr": str, "renewal_date": "YYYY-MM-DD", "admin_email": str}."""
        rec.call("billing.account", account_id)
        mrr, renewal = BILLING[account_id]
        return {"mrr": mrr, "renewal_date": renewal,
                "admin_email": f"admin@{account_id}.example"}

    def email_send(to: str, subject: str, body: str, idempotency_key: str = "") -> dict:
        """Send an email once per idempotency key. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.once("emails", idempotency_key, to)
        return {"message_id": rec.next_id("M")}

    def crm_note(account_id: str, text: str, idempotency_key: str = "") -> dict:
        """Add a note to an account. Returns {"ok": True}."""
        rec.call("crm.note", account_id)
        rec.once("notes", idempotency_key, (account_id, text))
        return {"ok": True}

    def tasks_create(assignee: str, account_id: str, title: str,
                     idempotency_key: str = "") -> dict:
        """Create a follow-up task for a person. Returns {"task_id": str}."""
        rec.call("tasks.create", assignee, account_id)
        rec.once("tasks", idempotency_key, (assignee, account_id))
        return {"task_id": rec.next_id("T")}

    return {"usage.weekly_active": usage_weekly_active, "billing.account": billing_account,
            "email.send": email_send, "crm.note": crm_note,
            "tasks.create": tasks_create}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"accounts": [
        {"account_id": "acc-1", "risk": "high", "outcome": "booked"},
        {"account_id": "acc-2", "risk": "low", "outcome": None},
        {"account_id": "acc-3", "risk": "low", "outcome": None},
        {"account_id": "acc-4", "risk": "high", "outcome": "csm_task"},
        {"account_id": "acc-5", "risk": "low", "outcome": None}],
        "mrr_at_risk": "2050.50"}, output
    assert sorted(state["emails"]) == ["admin@acc-1.example", "admin@acc-4.example"]
    assert [n[0] for n in state["notes"]] == ["acc-1"], state["notes"]
    assert state["tasks"] == [("jo@corp.example", "acc-4")], state["tasks"]
