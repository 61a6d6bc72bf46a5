"""Hard: quorum of votes with dedup, membership checks, an overall deadline."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Collect votes on a change proposal until a quorum decides it.

Votes arrive as events "vote" with payload {"proposal": str, "approver": str,
"approve": bool}. Only votes for this proposal count, and only from people in the
`approvers` param; a person's first vote counts and later votes from the same person
are ignored.

- The proposal is "approved" as soon as `quorum` approvers have voted yes.
- It is "rejected" as soon as approval has become impossible (so many no votes that
  fewer than `quorum` approvers are left who could still vote yes).
- It "expired" if neither happened within 48 hours of the run's start (the 48 hours are
  a total deadline, not per vote).

When decided, notify the proposer once with `notify.send(to, text)` (to: the `proposer`
param; the text must contain the decision word) and finish.

Params (`event.payload`): {"proposal": "CHG-88", "proposer": "eli", "quorum": 3,
"approvers": ["alice", "bob", "carol", "dave", "erin"]}.

Return: {"proposal": str, "decision": "approved" | "rejected" | "expired", "approvals":
[approver, ...], "rejections": [approver, ...]} (both lists in the order the counted
votes arrived).
"""

PARAMS = {"proposal": "CHG-88", "proposer": "eli", "quorum": 3,
          "approvers": ["alice", "bob", "carol", "dave", "erin"]}


def _vote(approver: str, approve: bool, proposal: str = "CHG-88") -> tuple[Any, ...]:
    return ("event", "vote", {"proposal": proposal, "approver": approver, "approve": approve})


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "2 hours"), _vote("alice", True),
    ("advance", "3 hours"), _vote("mallory", True), _vote("alice", True),
    _vote("bob", True, "CHG-12"),
    ("advance", "10 hours"), _vote("bob", False),
    ("advance", "20 hours"), _vote("carol", True),
    ("advance", "5 hours"), ("expect_status", "waiting"), _vote("dave", True),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(notices=[])

    def notify_send(to: str, text: str) -> dict:
        """Send a notification to a person. Returns {"id": str}."""
        rec.call("notify.send", to)
        rec.add("notices", {"to": to, "text": text})
        return {"id": rec.next_id("N")}

    return {"notify.send": notify_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"proposal": "CHG-88", "decision": "approved",
                      "approvals": ["alice", "carol", "dave"], "rejections": ["bob"]}, output
    assert len(state["notices"]) == 1, state["notices"]
    assert state["notices"][0]["to"] == "eli" and "approved" in state["notices"][0]["text"]
