"""Hard: sleep to a computed time, correlated acks (two keys), escalation, parallel assign."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Hand over the on-call shift.

1. Sleep until 30 minutes before `shift_end`. Then list the team's open incidents with
   `incidents.open(team)` -> a list of {"id": str, "title": str, "severity": str}.
2. Send the incoming engineer the handover note (it must list every open incident id)
   with `pager.notify(person, message, idempotency_key)`.
3. Wait for the event "handover-ack", payload {"shift_id": str, "engineer": str}, for
   this shift from the incoming engineer, until `shift_end`.
4. No ack by then: notify the backup the same way and wait 30 minutes for the backup's
   ack for this shift. Once the backup has been paged, only the backup's ack counts.
   Still none: notify the manager that nobody took the shift; the manager becomes the
   owner.
5. Reassign every open incident to the owner (whoever acked, or the manager), all at
   once in parallel, with `incidents.assign(incident_id, engineer, idempotency_key)`.

Params (`event.payload`): {"shift_id": "SH-0101", "team": "payments", "shift_end":
"2026-01-01T09:00:00+00:00", "incoming": "raj", "backup": "lee", "manager": "mia"}.

Return: {"shift_id": str, "owner": str, "acked_by": str | null, "reassigned":
[incident_id, ...] (in listed order), "notified": [person, ...] (in the order
notified)}.
"""

PARAMS = {"shift_id": "SH-0101", "team": "payments", "shift_end": "2026-01-01T09:00:00+00:00",
          "incoming": "raj", "backup": "lee", "manager": "mia"}


def _ack(shift: str, engineer: str) -> tuple[Any, ...]:
    return ("event", "handover-ack", {"shift_id": shift, "engineer": engineer})


def _notified(people: list[str]) -> Any:
    def probe(state: dict[str, Any]) -> None:
        assert [n[0] for n in state["notices"]] == people, state["notices"]
        assert state["assigned"] == [], state["assigned"]
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "8 hours"), ("probe", _notified([])),
    ("advance", "35 minutes"), ("probe", _notified(["raj"])),
    _ack("SH-1231", "raj"), _ack("SH-0101", "ana"),
    ("advance", "30 minutes"), ("probe", _notified(["raj", "lee"])),
    _ack("SH-0101", "raj"),
    ("advance", "5 minutes"), _ack("SH-0101", "lee"),
    ("advance", "1 hour"),
]
INCIDENTS = [{"id": "INC-7", "title": "refund queue lag", "severity": "sev3"},
             {"id": "INC-9", "title": "3DS timeouts", "severity": "sev2"},
             {"id": "INC-4", "title": "webhook retries", "severity": "sev4"}]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(notices=[], assigned=[])

    def incidents_open(team: str) -> list:
        """A team's open incidents: [{"id": str, "title": str, "severity": str}]."""
        rec.call("incidents.open", team)
        return [dict(i) for i in INCIDENTS]

    def pager_notify(person: str, message: str, idempotency_key: str = "") -> dict:
        """Page a person with a message. Returns {"page_id": str}."""
        rec.call("pager.notify", person)
        rec.once("notices", idempotency_key, (person, message))
        return {"page_id": rec.next_id("pg")}

    async def incidents_assign(incident_id: str, engineer: str,
                               idempotency_key: str = "") -> dict:
        """Make an engineer the owner of an incident. Returns {"ok": True}."""
        rec.call("incidents.assign", incident_id, engineer)
        rec.once("assigned", idempotency_key, (incident_id, engineer))
        return {"ok": True}

    return {"incidents.open": incidents_open, "pager.notify": pager_notify,
            "incidents.assign": incidents_assign}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"shift_id": "SH-0101", "owner": "lee", "acked_by": "lee",
                      "reassigned": ["INC-7", "INC-9", "INC-4"],
                      "notified": ["raj", "lee"]}, output
    assert [n[0] for n in state["notices"]] == ["raj", "lee"], state["notices"]
    note = state["notices"][0][1]
    assert all(i["id"] in note for i in INCIDENTS), note
    assert sorted(state["assigned"]) == [("INC-4", "lee"), ("INC-7", "lee"),
                                         ("INC-9", "lee")], state["assigned"]
