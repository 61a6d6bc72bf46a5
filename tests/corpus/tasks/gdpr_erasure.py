"""Hard: parallel erasure across systems with retries, a permanent failure, a ticket."""

from __future__ import annotations

from typing import Any

import anyio

from agents_durable import NonRetryableError
from tests.corpus.tasks._kit import Recorder

TASK = """\
Erase a user's personal data from every system (a GDPR request).

1. Call `privacy.erase(system, user_id, idempotency_key)` for each system in `systems`,
   all systems concurrently. Each system may fail transiently: retry up to 3 times, 1
   minute apart (constant delay). A retired system fails permanently (non-retryable).
2. If some systems could not be erased, open one ticket with
   `tickets.open(queue, summary)` with queue exactly "privacy", the summary naming the
   failed systems.
3. Issue the erasure certificate once with `privacy.certificate(user_id, systems)`
   listing the systems that were erased (sorted), -> {"certificate_id": str}.

Params (`event.payload`): {"user_id": "u-4040", "systems": ["crm", "billing",
"analytics", "legacy-cms", "support"]}.
No events arrive.

Return: {"user_id": str, "erased": [system, ...] (sorted), "failed": [system, ...]
(sorted), "ticket_id": str or null, "certificate_id": str}.
"""

PARAMS = {"user_id": "u-4040", "systems": ["crm", "billing", "analytics", "legacy-cms",
                                           "support"]}
SCENARIO: list[tuple[Any, ...]] = [("advance", "90 seconds"), ("advance", "10 minutes")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(erased=[], tickets=[], certificates=[])

    async def privacy_erase(system: str, user_id: str, idempotency_key: str = "") -> dict:
        """Delete a user's personal data in one system. Returns {"deleted_records": int}.

        Raises a transient error when the system is busy, and a non-retryable error
        for a retired system.
        """
        n = rec.call("privacy.erase", system)
        await anyio.sleep(0.01)
        if system == "legacy-cms":
            raise NonRetryableError("system retired: erase manually")
        if system == "billing" and n <= 2:
            raise TimeoutError("billing database busy")
        rec.once("erased", idempotency_key, system)
        return {"deleted_records": 3}

    def tickets_open(queue: str, summary: str) -> dict:
        """Open a ticket in a work queue. Returns {"ticket_id": str}."""
        rec.call("tickets.open", queue)
        rec.add("tickets", {"queue": queue, "summary": summary})
        return {"ticket_id": rec.next_id("PRV")}

    def privacy_certificate(user_id: str, systems: list) -> dict:
        """Issue the erasure certificate for a user. Returns {"certificate_id": str}."""
        rec.call("privacy.certificate", user_id)
        rec.add("certificates", list(systems))
        return {"certificate_id": "CERT-u-4040"}

    return {"privacy.erase": privacy_erase, "tickets.open": tickets_open,
            "privacy.certificate": privacy_certificate}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    erased = ["analytics", "billing", "crm", "support"]
    assert output == {"user_id": "u-4040", "erased": erased, "failed": ["legacy-cms"],
                      "ticket_id": "PRV-1", "certificate_id": "CERT-u-4040"}, output
    assert sorted(state["erased"]) == erased
    assert len(state["tickets"]) == 1 and state["tickets"][0]["queue"] == "privacy"
    assert "legacy-cms" in state["tickets"][0]["summary"]
    assert state["certificates"] == [erased]
