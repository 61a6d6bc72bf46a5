"""Medium-hard: automated check fails after retries, fall back to a manual review event."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Verify a new customer's identity.

1. Try the automatic check `idv.check(applicant_id)`, which returns {"verified": bool,
   "reason": str}. The provider is often down: retry it 2 times, 30 seconds apart
   (constant delay).
2. If the automatic check gave an answer, that is the result (method "automatic").
3. If it still failed after the retries, open a manual review with
   `reviews.open(applicant_id)` and wait up to 2 days for an event "manual-review" with
   payload {"applicant_id": str, "verified": bool, "reviewer": str} for this applicant
   (method "manual"). No review in time: verified false, method "timeout".
4. Tell the applicant with `email.send(to, subject, body)` (to: the `email` param)
   whether they are verified (one email).

Params (`event.payload`): {"applicant_id": "AP-19", "email": "val@example.com"}.

Return: {"applicant_id": str, "verified": bool, "method": "automatic" | "manual" |
"timeout", "reviewer": str or null}.
"""

PARAMS = {"applicant_id": "AP-19", "email": "val@example.com"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "2 minutes"), ("expect_status", "waiting"),
    ("event", "manual-review", {"applicant_id": "AP-18", "verified": False,
                                "reviewer": "zed"}),
    ("advance", "6 hours"),
    ("event", "manual-review", {"applicant_id": "AP-19", "verified": True,
                                "reviewer": "yara"}),
    ("advance", "1 minute"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(reviews=[], emails=[])

    def idv_check(applicant_id: str) -> dict:
        """Automatic ID document check. Returns {"verified": bool, "reason": str}.

        Raises ConnectionError while the provider is down.
        """
        rec.call("idv.check", applicant_id)
        raise ConnectionError("identity provider unavailable")

    def reviews_open(applicant_id: str) -> dict:
        """Put an applicant in the manual review queue. Returns {"review_id": str}."""
        rec.call("reviews.open", applicant_id)
        rec.add("reviews", applicant_id)
        return {"review_id": "RV-1"}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    return {"idv.check": idv_check, "reviews.open": reviews_open,
            "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"applicant_id": "AP-19", "verified": True, "method": "manual",
                      "reviewer": "yara"}, output
    assert sum(1 for c in state["calls"] if c[0] == "idv.check") == 3
    assert state["reviews"] == ["AP-19"] and state["emails"] == ["val@example.com"]
