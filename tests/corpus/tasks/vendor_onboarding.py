"""Hard: two event types in any order against one deadline, a reminder, an extension."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Onboard a new vendor once they have sent both required documents.

Two kinds of events arrive, in any order, each with payload {"vendor_id": str, ...};
only events for this vendor count:
- "documents-uploaded" with {"vendor_id": str, "files": int}
- "tax-form-received" with {"vendor_id": str, "form": str}

1. The vendor has 7 days from the start of this run to send both.
2. If anything is still missing at the 7-day deadline, email the vendor once with
   `email.send(to, subject, body)` listing what is missing, and extend the deadline to
   10 days from the start.
3. If both arrived by the (possibly extended) deadline, run the compliance review
   `compliance.review(vendor_id)` -> {"approved": bool}; approved: activate with
   `vendors.activate(vendor_id)` (status "active"); not approved: status "rejected".
4. If something is still missing at 10 days, reject with `vendors.reject(vendor_id,
   reason)` (status "expired").

Params (`event.payload`): {"vendor_id": "V-204", "email": "ops@vendor.example"}.

Return: {"vendor_id": str, "status": "active" | "rejected" | "expired", "reminded":
bool, "missing_at_deadline": [str, ...] (what was missing at day 7, using the names
"documents" and "tax_form", in that order; empty if nothing was missing)}.
"""

PARAMS = {"vendor_id": "V-204", "email": "ops@vendor.example"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "2 days"),
    ("event", "tax-form-received", {"vendor_id": "V-204", "form": "W-8BEN"}),
    ("event", "documents-uploaded", {"vendor_id": "V-999", "files": 3}),
    ("advance", "6 days"),
    ("event", "documents-uploaded", {"vendor_id": "V-204", "files": 4}),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], activated=[], rejected=[])

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", to)
        return {"message_id": rec.next_id("M")}

    def compliance_review(vendor_id: str) -> dict:
        """Automated compliance screening. Returns {"approved": bool}."""
        rec.call("compliance.review", vendor_id)
        return {"approved": True}

    def vendors_activate(vendor_id: str) -> dict:
        """Activate a vendor in the procurement system. Returns {"status": "active"}."""
        rec.call("vendors.activate", vendor_id)
        rec.add("activated", vendor_id)
        return {"status": "active"}

    def vendors_reject(vendor_id: str, reason: str) -> dict:
        """Reject a vendor application. Returns {"status": "rejected"}."""
        rec.call("vendors.reject", vendor_id)
        rec.add("rejected", vendor_id)
        return {"status": "rejected"}

    return {"email.send": email_send, "compliance.review": compliance_review,
            "vendors.activate": vendors_activate, "vendors.reject": vendors_reject}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"vendor_id": "V-204", "status": "active", "reminded": True,
                      "missing_at_deadline": ["documents"]}, output
    assert state["emails"] == ["ops@vendor.example"]
    assert state["activated"] == ["V-204"] and state["rejected"] == []
