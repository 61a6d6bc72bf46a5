"""Medium-hard: review rounds in a loop until approval, with a reminder on silence."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Take a document through review until it is approved.

Round n (starting at 1 with version 1):
1. Send version v to the reviewer with `docs.submit(doc_id, version, reviewer)`.
2. Wait up to 2 days for an event "review" with payload {"doc_id": str, "version": int,
   "verdict": "approved" | "changes", "comments": str}; only reviews of this doc_id and
   of the version just submitted count. If no review arrives in 2 days, send the reviewer
   one reminder with `chat.dm(user, text)` and wait up to 1 more day; if there is still
   none, stop with status "stalled".
3. "approved": publish that version with `docs.publish(doc_id, version)` and stop with
   status "published".
4. "changes": create the next version with `docs.revise(doc_id, comments)`, which
   returns {"version": int}, and start the next round with it. At most 3 rounds: if the
   third round also asks for changes, stop with status "rejected" (do not revise again).

Params (`event.payload`): {"doc_id": "SPEC-9", "reviewer": "ivy"}.

Return: {"doc_id": str, "status": "published" | "rejected" | "stalled", "rounds": int,
"published_version": int or null, "reminders": int}.
"""

PARAMS = {"doc_id": "SPEC-9", "reviewer": "ivy"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 day"),
    ("event", "review", {"doc_id": "SPEC-9", "version": 1, "verdict": "changes",
                         "comments": "tighten section 2"}),
    ("advance", "2 days"), ("advance", "6 hours"),  # round 2: silence -> reminder
    ("event", "review", {"doc_id": "SPEC-1", "version": 2, "verdict": "approved",
                         "comments": ""}),
    ("event", "review", {"doc_id": "SPEC-9", "version": 2, "verdict": "changes",
                         "comments": "add examples"}),
    ("advance", "3 hours"),
    ("event", "review", {"doc_id": "SPEC-9", "version": 3, "verdict": "approved",
                         "comments": "ship it"}),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(submits=[], revisions=[], published=[], dms=[])

    def docs_submit(doc_id: str, version: int, reviewer: str) -> dict:
        """Ask a reviewer to review one version of a document. Returns {"ok": True}."""
        rec.call("docs.submit", doc_id, version)
        rec.add("submits", version)
        return {"ok": True}

    def docs_revise(doc_id: str, comments: str) -> dict:
        """Have the author address review comments. Returns {"version": int} (the new one)."""
        rec.call("docs.revise", doc_id)
        rec.add("revisions", comments)
        return {"version": len(rec.state["revisions"]) + 1}

    def docs_publish(doc_id: str, version: int) -> dict:
        """Publish a version of a document. Returns {"url": str}."""
        rec.call("docs.publish", doc_id, version)
        rec.add("published", version)
        return {"url": f"https://docs.example/{doc_id}/v{version}"}

    def chat_dm(user: str, text: str) -> dict:
        """Send a direct chat message. Returns {"ts": str}."""
        rec.call("chat.dm", user)
        rec.add("dms", user)
        return {"ts": rec.next_id("ts")}

    return {"docs.submit": docs_submit, "docs.revise": docs_revise,
            "docs.publish": docs_publish, "chat.dm": chat_dm}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"doc_id": "SPEC-9", "status": "published", "rounds": 3,
                      "published_version": 3, "reminders": 1}, output
    assert state["submits"] == [1, 2, 3], state["submits"]
    assert state["revisions"] == ["tighten section 2", "add examples"]
    assert state["published"] == [3] and state["dms"] == ["ivy"], state
