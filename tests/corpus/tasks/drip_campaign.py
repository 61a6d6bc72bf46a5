"""Medium: onboarding emails over days, stopping when the user converts."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Run an onboarding email sequence for a new user.

Send these emails with `email.send_template(to, template, idempotency_key)`, counted
from the moment the run starts:
- day 0 (right away): template "welcome"
- day 2: "tips"
- day 5: "case-study"
- day 9: "discount"

The user may convert (buy a plan) at any time: an event "converted" arrives with payload
{"user_id": str, "plan": str}; only events for this user count. As soon as the user
has converted, send nothing more and finish (a template whose time has not yet come
must not be sent). Each email at most once.

Params (`event.payload`): {"user_id": "u-981", "email": "mo@example.com"}.

Return: {"user_id": str, "sent": [template, ...] (in the order sent), "converted": bool,
"plan": str or null}.
"""

PARAMS = {"user_id": "u-981", "email": "mo@example.com"}


def _two_sent(state: dict[str, Any]) -> None:
    assert [e["template"] for e in state["emails"]] == ["welcome", "tips"], state["emails"]


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "3 days"), ("probe", _two_sent),
    ("event", "converted", {"user_id": "u-123", "plan": "team"}),
    ("advance", "1 day"),
    ("event", "converted", {"user_id": "u-981", "plan": "pro"}),
    ("advance", "10 days"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[])

    def email_send_template(to: str, template: str, idempotency_key: str = "") -> dict:
        """Send a marketing email template to one address. Returns {"message_id": str}."""
        rec.call("email.send_template", to, template)
        rec.once("emails", idempotency_key, {"to": to, "template": template})
        return {"message_id": rec.next_id("M")}

    return {"email.send_template": email_send_template}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"user_id": "u-981", "sent": ["welcome", "tips"], "converted": True,
                      "plan": "pro"}, output
    assert state["emails"] == [{"to": "mo@example.com", "template": "welcome"},
                               {"to": "mo@example.com", "template": "tips"}], state["emails"]
