"""Medium: periodic reminders while waiting for a resolution, then escalation."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Keep a high-priority ticket moving.

Wait for an event "ticket-resolved" with payload {"ticket_id": str} for this ticket
(events about other tickets must be ignored). Every 4 hours without a resolution, remind
the assignee with `chat.dm(user, text)` (user: the `assignee` param; the text must
contain the ticket id), at most 3 reminders (after 4, 8 and 12 hours). If the ticket is
still not resolved 4 hours after the third reminder (16 hours in total), escalate once
with `tickets.escalate(ticket_id, level)` with level exactly "manager" and finish.
If the resolution arrives at any point, finish right away without further reminders.

Params (`event.payload`): {"ticket_id": "INC-4411", "assignee": "sam"}.

Return: {"ticket_id": str, "resolved": bool, "reminders": int, "escalated": bool}.
"""

PARAMS = {"ticket_id": "INC-4411", "assignee": "sam"}


def _two_reminders(state: dict[str, Any]) -> None:
    assert len(state["dms"]) == 2 and state["escalations"] == [], state


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "9 hours"), ("probe", _two_reminders),
    ("event", "ticket-resolved", {"ticket_id": "INC-0001"}),
    ("advance", "8 hours"),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(dms=[], escalations=[])

    def chat_dm(user: str, text: str) -> dict:
        """Send a direct chat message to a user. Returns {"ts": str}."""
        rec.call("chat.dm", user)
        rec.add("dms", {"user": user, "text": text})
        return {"ts": rec.next_id("ts")}

    def tickets_escalate(ticket_id: str, level: str) -> dict:
        """Escalate a ticket to a higher support level. Returns {"level": str}."""
        rec.call("tickets.escalate", ticket_id, level)
        rec.add("escalations", [ticket_id, level])
        return {"level": level}

    return {"chat.dm": chat_dm, "tickets.escalate": tickets_escalate}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"ticket_id": "INC-4411", "resolved": False, "reminders": 3,
                      "escalated": True}, output
    assert len(state["dms"]) == 3, state["dms"]
    assert all(d["user"] == "sam" and "INC-4411" in d["text"] for d in state["dms"])
    assert state["escalations"] == [["INC-4411", "manager"]]
