"""Hard: three event types in sequence, correlated by id, minutes from event timestamps."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Track an incident through its lifecycle and keep the status page current.

The incident started when this run started. Events arrive, each with payload
{"incident_id": str, "by": str}; only events for this incident count:
1. "incident-acknowledged": post "Investigating" with `statuspage.update(incident_id,
   status)`.
2. then "incident-mitigated": post "Mitigated".
3. then "incident-resolved": post "Resolved".
Each stage waits up to 4 hours for its event. If a stage times out, open a ticket with
`tickets.open(incident_id, reason)` (reason mentions the missing stage), post nothing
more, and finish.

For each stage reached, record the minutes from the incident start to the moment the
event was sent (the event's own timestamp), as an integer (whole minutes, rounded down).

Params (`event.payload`): {"incident_id": "INC-902"}.

Return: {"incident_id": str, "ack_minutes": int or null, "mitigate_minutes": int or
null, "resolve_minutes": int or null, "ticket_id": str or null}.
"""

PARAMS = {"incident_id": "INC-902"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "7 minutes"),
    ("event", "incident-acknowledged", {"incident_id": "INC-900", "by": "x"}),
    ("event", "incident-acknowledged", {"incident_id": "INC-902", "by": "ana"}),
    ("advance", "28 minutes"), ("advance", "30 seconds"),
    ("event", "incident-mitigated", {"incident_id": "INC-902", "by": "ana"}),
    ("advance", "1 hour"),
    ("event", "incident-resolved", {"incident_id": "INC-902", "by": "raj"}),
    ("advance", "1 minute"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(updates=[], tickets=[])

    def statuspage_update(incident_id: str, status: str) -> dict:
        """Set the public status of an incident. Returns {"ok": True}."""
        rec.call("statuspage.update", status)
        rec.add("updates", status)
        return {"ok": True}

    def tickets_open(incident_id: str, reason: str) -> dict:
        """Open an ops ticket. Returns {"ticket_id": str}."""
        rec.call("tickets.open", incident_id)
        rec.add("tickets", reason)
        return {"ticket_id": rec.next_id("OPS")}

    return {"statuspage.update": statuspage_update, "tickets.open": tickets_open}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"incident_id": "INC-902", "ack_minutes": 7, "mitigate_minutes": 35,
                      "resolve_minutes": 95, "ticket_id": None}, output
    assert state["updates"] == ["Investigating", "Mitigated", "Resolved"], state["updates"]
    assert state["tickets"] == []
