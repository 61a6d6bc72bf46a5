"""Simple: rule-based lead score and tier."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Score a sales lead and store the score.

1. Fetch it with `crm.lead(lead_id)`: {"id", "company_size": int, "industry": str,
   "visits": int, "email": str}.
2. Score, starting from 0:
   - +30 if company_size >= 200
   - +20 if industry is one of "fintech", "healthcare", "logistics"
   - +2 per website visit, at most +20 in total for visits
   - -15 if the email's domain (after "@", lowercased) is "gmail.com", "yahoo.com" or
     "hotmail.com"
3. Tier: "hot" if score >= 60, "warm" if score >= 30, otherwise "cold".
4. Save with `crm.update_score(lead_id, score, tier)`.

Params (`event.payload`): {"lead_id": "L-77"}.
No events arrive.

Return: {"lead_id": str, "score": int, "tier": str}.
"""

PARAMS = {"lead_id": "L-77"}
SCENARIO: list[tuple[Any, ...]] = []


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(updates=[])

    def crm_lead(lead_id: str) -> dict:
        """Fetch a lead.

        Returns {"id": str, "company_size": int, "industry": str, "visits": int,
        "email": str}.
        """
        rec.call("crm.lead", lead_id)
        return {"id": lead_id, "company_size": 250, "industry": "Logistics".lower(),
                "visits": 14, "email": "cto@GMAIL.com"}

    def crm_update_score(lead_id: str, score: int, tier: str) -> dict:
        """Store a lead's score and tier. Returns {"ok": True}."""
        rec.call("crm.update_score", lead_id)
        rec.add("updates", {"lead_id": lead_id, "score": score, "tier": tier})
        return {"ok": True}

    return {"crm.lead": crm_lead, "crm.update_score": crm_update_score}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    # 30 + 20 + min(28, 20) - 15 = 55 -> warm
    assert output == {"lead_id": "L-77", "score": 55, "tier": "warm"}, output
    assert state["updates"] == [{"lead_id": "L-77", "score": 55, "tier": "warm"}]
