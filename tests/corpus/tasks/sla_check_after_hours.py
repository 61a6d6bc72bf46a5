"""Simple: re-check a ticket after 4 hours and nudge the leads if nobody took it."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Our support SLA says a new ticket must have an assignee within 4 hours.

1. Read the ticket with `tickets.get(ticket_id)` when the run starts.
2. Wait 4 hours.
3. Read it again. If it still has no `assignee` (null) and its `status` is still "open",
   post to the leads' channel with `chat.post(channel, text)`: channel exactly
   "#support-leads", and the text must contain the ticket id. Post nothing otherwise, and
   nothing before the 4 hours are up.

Params (`event.payload`): {"ticket_id": "SUP-3141"}.
No events arrive.

Return: {"ticket_id": str, "assigned": bool (whether it had an assignee at the second
read), "nudged": bool (whether you posted)}.
"""

PARAMS = {"ticket_id": "SUP-3141"}


def _no_posts(state: dict[str, Any]) -> None:
    assert state["posts"] == [], "posted before the 4 hours were up"


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "3 hours"), ("expect_status", "waiting"), ("probe", _no_posts),
    ("advance", "2 hours"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(posts=[])

    def tickets_get(ticket_id: str) -> dict:
        """Read a support ticket.

        Returns {"id": str, "status": "open" | "pending" | "closed", "assignee": str or
        None, "subject": str, "opened_at": str (ISO-8601)}.
        """
        rec.call("tickets.get", ticket_id)
        return {"id": ticket_id, "status": "open", "assignee": None,
                "subject": "Cannot log in", "opened_at": "2026-01-01T00:00:00+00:00"}

    def chat_post(channel: str, text: str) -> dict:
        """Post a message to a chat channel. Returns {"ts": str}."""
        rec.call("chat.post", channel)
        rec.add("posts", {"channel": channel, "text": text})
        return {"ts": rec.next_id("ts")}

    return {"tickets.get": tickets_get, "chat.post": chat_post}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"ticket_id": "SUP-3141", "assigned": False, "nudged": True}, output
    assert len(state["posts"]) == 1, state["posts"]
    assert state["posts"][0]["channel"] == "#support-leads"
    assert "SUP-3141" in state["posts"][0]["text"]
    assert sum(1 for c in state["calls"] if c[0] == "tickets.get") == 2, state["calls"]
