"""Simple: a random sample via step.random(), flagged exactly once each."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Pick a random QA sample of yesterday's closed tickets.

1. List the closed tickets with `tickets.closed(day)`: a list of ticket id strings.
2. Choose `sample_size` distinct tickets uniformly at random (the sample must stay the
   same if the run is resumed after a restart).
3. Flag each chosen ticket for review with `audit.flag(ticket_id)`, exactly once each.

Params (`event.payload`): {"day": "2025-12-31", "sample_size": 3}.
No events arrive.

Return: {"day": str, "sampled": [ticket_id, ...] (the chosen ids, any order)}.
"""

PARAMS = {"day": "2025-12-31", "sample_size": 3}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
TICKETS = [f"T-{n}" for n in range(100, 120)]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(flags=[])

    def tickets_closed(day: str) -> list:
        """Ids of the tickets closed on an ISO date: a list of str."""
        rec.call("tickets.closed", day)
        return list(TICKETS)

    def audit_flag(ticket_id: str) -> dict:
        """Flag a ticket for QA review. Returns {"flagged": str}."""
        rec.call("audit.flag", ticket_id)
        rec.add("flags", ticket_id)
        return {"flagged": ticket_id}

    return {"tickets.closed": tickets_closed, "audit.flag": audit_flag}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert set(output) == {"day", "sampled"} and output["day"] == "2025-12-31", output
    sampled = output["sampled"]
    assert len(sampled) == 3 and len(set(sampled)) == 3, sampled
    assert set(sampled) <= set(TICKETS), sampled
    assert sorted(state["flags"]) == sorted(sampled), state["flags"]
