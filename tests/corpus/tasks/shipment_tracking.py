"""Medium: poll a carrier every 6 hours, notify only on status changes, stop when done."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Keep a customer informed about their parcel.

Poll `carrier.status(tracking_number)` (returns {"status": str, "location": str}) right
away and then every 6 hours, until the status is "delivered" or 20 polls have been made.
Text the customer with `sms.send(phone, text)` every time the status differs from the
previous poll's status (the first poll counts as a change); the text must contain the
new status. Never text twice for the same status change.

Params (`event.payload`): {"tracking_number": "1Z999AA10123456784", "phone":
"+31600000000"}.
No events arrive.

Return: {"tracking_number": str, "delivered": bool, "polls": int, "notified":
[status, ...] (the statuses you texted about, in order)}.
"""

PARAMS = {"tracking_number": "1Z999AA10123456784", "phone": "+31600000000"}
STATUSES = ["label_created", "label_created", "in_transit", "in_transit", "in_transit",
            "out_for_delivery", "delivered"]


def _three(state: dict[str, Any]) -> None:
    assert len(state["sms"]) == 2, state["sms"]  # polls at 0, 6, 12, 18 h: two changes


SCENARIO: list[tuple[Any, ...]] = [("advance", "20 hours"), ("probe", _three),
                                   ("advance", "3 days")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(sms=[])

    def carrier_status(tracking_number: str) -> dict:
        """Current tracking status. Returns {"status": str, "location": str}."""
        n = rec.call("carrier.status", tracking_number)
        return {"status": STATUSES[min(n, len(STATUSES)) - 1], "location": "Utrecht"}

    def sms_send(phone: str, text: str) -> dict:
        """Send a text message. Returns {"sid": str}."""
        rec.call("sms.send", phone)
        rec.add("sms", text)
        return {"sid": rec.next_id("SM")}

    return {"carrier.status": carrier_status, "sms.send": sms_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    notified = ["label_created", "in_transit", "out_for_delivery", "delivered"]
    assert output == {"tracking_number": "1Z999AA10123456784", "delivered": True, "polls": 7,
                      "notified": notified}, output
    assert len(state["sms"]) == 4, state["sms"]
    assert all(s in t for s, t in zip(notified, state["sms"], strict=True)), state["sms"]
