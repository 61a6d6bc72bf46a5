"""Medium: page responders in turn until one acknowledges."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Page the on-call chain for an incident until somebody acknowledges it.

Page the responders in `chain` one at a time, in order, with
`pager.page(person, incident_id, idempotency_key)`. After paging a person, wait up to
15 minutes for an event "incident-ack" with payload {"incident_id": str, "by": str};
only acknowledgements of this incident count (any responder's ack counts). If nobody
acknowledges, page the next person. If the whole chain stays silent, post once to the
status page with `statuspage.post(incident_id, message)` and finish.

Params (`event.payload`): {"incident_id": "INC-311", "chain": ["alice", "bob", "carol"]}.

Return: {"incident_id": str, "acked_by": str or null, "paged": [person, ...] (in order),
"status_posted": bool}.
"""

PARAMS = {"incident_id": "INC-311", "chain": ["alice", "bob", "carol"]}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "10 minutes"),
    ("event", "incident-ack", {"incident_id": "INC-200", "by": "alice"}),
    ("advance", "10 minutes"),
    ("event", "incident-ack", {"incident_id": "INC-311", "by": "bob"}),
    ("advance", "1 hour"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(pages=[], status_posts=[])

    def pager_page(person: str, incident_id: str, idempotency_key: str = "") -> dict:
        """Page a responder about an incident. Returns {"page_id": str}."""
        rec.call("pager.page", person)
        rec.once("pages", idempotency_key, person)
        return {"page_id": rec.next_id("PG")}

    def statuspage_post(incident_id: str, message: str) -> dict:
        """Post an update to the public status page. Returns {"url": str}."""
        rec.call("statuspage.post", incident_id)
        rec.add("status_posts", incident_id)
        return {"url": "https://status.example/1"}

    return {"pager.page": pager_page, "statuspage.post": statuspage_post}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"incident_id": "INC-311", "acked_by": "bob", "paged": ["alice", "bob"],
                      "status_posted": False}, output
    assert state["pages"] == ["alice", "bob"], state["pages"]
    assert state["status_posts"] == []
