"""Hard: parallel checks, decision rules, an underwriter event, annuity formula in Decimal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import anyio

from tests.corpus.tasks._kit import Recorder

TASK = """\
Decide a personal loan application.

1. Run the credit check `credit.score(applicant_id)` -> {"score": int} and the fraud
   check `fraud.check(applicant_id)` -> {"flagged": bool} concurrently.
2. Decision:
   - fraud flagged: "declined" (via "rules");
   - score >= 720: "approved" (via "rules");
   - 650 <= score < 720: ask an underwriter: `underwriting.request(application_id)`,
     then wait up to 3 days for an event "underwriter-decision" with payload
     {"application_id": str, "approved": bool, "underwriter": str} for this application
     (via "underwriter"); no decision in time: "declined" (via "timeout");
   - score < 650: "declined" (via "rules").
3. If approved, compute the monthly payment of an annuity loan with exact decimals:
   r = annual_rate_pct / 100 / 12, payment = principal * r / (1 - (1 + r) ** -months),
   rounded to cents with ROUND_HALF_UP, and make the offer once with
   `loans.offer(application_id, monthly_payment, idempotency_key)` (payment as a string
   with 2 decimals).

Params (`event.payload`): {"application_id": "LN-5001", "applicant_id": "P-33",
"principal": "15000.00", "annual_rate_pct": "6.9", "months": 48}.

Return: {"application_id": str, "decision": "approved" | "declined", "via": "rules" |
"underwriter" | "timeout", "score": int, "monthly_payment": str or null}.
"""

PARAMS = {"application_id": "LN-5001", "applicant_id": "P-33", "principal": "15000.00",
          "annual_rate_pct": "6.9", "months": 48}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 day"),
    ("event", "underwriter-decision", {"application_id": "LN-5000", "approved": False,
                                       "underwriter": "kim"}),
    ("advance", "1 day"),
    ("event", "underwriter-decision", {"application_id": "LN-5001", "approved": True,
                                       "underwriter": "ola"}),
    ("advance", "1 minute"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(offers=[], requests=[])

    async def credit_score(applicant_id: str) -> dict:
        """Credit bureau score of an applicant. Returns {"score": int}."""
        rec.call("credit.score", applicant_id)
        await anyio.sleep(0.01)
        return {"score": 684}

    async def fraud_check(applicant_id: str) -> dict:
        """Fraud screening of an applicant. Returns {"flagged": bool}."""
        rec.call("fraud.check", applicant_id)
        await anyio.sleep(0.02)
        return {"flagged": False}

    def underwriting_request(application_id: str) -> dict:
        """Ask the underwriting team to review an application. Returns {"ok": True}."""
        rec.call("underwriting.request", application_id)
        rec.add("requests", application_id)
        return {"ok": True}

    def loans_offer(application_id: str, monthly_payment: str,
                    idempotency_key: str = "") -> dict:
        """Send the applicant a loan offer. Returns {"offer_id": str}."""
        rec.call("loans.offer", application_id)
        rec.once("offers", idempotency_key, monthly_payment)
        return {"offer_id": "OF-1"}

    return {"credit.score": credit_score, "fraud.check": fraud_check,
            "underwriting.request": underwriting_request, "loans.offer": loans_offer}, rec.state


def _payment() -> str:
    r = Decimal("6.9") / 100 / 12
    payment = Decimal("15000.00") * r / (1 - (1 + r) ** -48)
    return str(payment.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"application_id": "LN-5001", "decision": "approved",
                      "via": "underwriter", "score": 684,
                      "monthly_payment": _payment()}, output
    assert state["requests"] == ["LN-5001"] and state["offers"] == [_payment()]
