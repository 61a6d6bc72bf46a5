"""Medium: score with retries, auto-act on clear scores, human review with a timeout."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Work through the content moderation queue.

1. Fetch the queue with `moderation.queue()` -> a list of {"item_id": str, "text":
   str}.
2. Score each item with `classifier.score(text)` -> float in [0, 1] (the probability it
   breaks the rules). The classifier has transient outages: retry it up to 4 times, 5
   seconds apart.
3. Score >= 0.9: remove it with `moderation.remove(item_id, reason, idempotency_key)`,
   reason "auto". Score <= 0.2: approve it with `moderation.approve(item_id,
   idempotency_key)`. Anything in between goes to a human: ask with
   `moderation.request_review(item_id, idempotency_key)`.
4. A reviewer answers with the event "review-decision", payload {"item_id": str,
   "decision": "remove" | "approve"}. Each reviewed item gets up to 12 hours from its
   review request; apply the decision with `moderation.remove` (reason "reviewer") or
   `moderation.approve`. No decision in time: hide the item with
   `moderation.hide(item_id, idempotency_key)`. Decisions about items that were not sent
   to review are ignored.

Every item gets exactly one final action (remove, approve or hide).

Params (`event.payload`): {} (nothing).

Return: {"removed": [item_id, ...], "approved": [item_id, ...], "hidden": [item_id,
...]} (each list in queue order).
"""

PARAMS: dict[str, Any] = {}
QUEUE = [("m1", "buy followers now", 0.95), ("m2", "you people are the worst", 0.5),
         ("m3", "lovely photo!", 0.1), ("m4", "meet me at the usual place", 0.7),
         ("m5", "this recipe is a crime", 0.3), ("m6", "nice work", 0.2),
         ("m7", "click here to claim", 0.9)]


def _decision(item: str, decision: str) -> tuple[Any, ...]:
    return ("event", "review-decision", {"item_id": item, "decision": decision})


def _no_final_for_m4(state: dict[str, Any]) -> None:
    assert "m4" not in [a[1] for a in state["actions"]], state["actions"]


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 hour"), _decision("m9", "remove"), _decision("m1", "approve"),
    ("advance", "1 hour"), _decision("m2", "remove"),
    ("advance", "1 hour"), _decision("m5", "approve"),
    ("advance", "8 hours"), ("probe", _no_final_for_m4),
    ("advance", "2 days"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(actions=[], reviews=[])
    scores = {text: score for _, text, score in QUEUE}

    def moderation_queue() -> list:
        """Items waiting for moderation: [{"item_id": str, "text": str}]."""
        rec.call("moderation.queue")
        return [{"item_id": i, "text": t} for i, t, _ in QUEUE]

    def classifier_score(text: str) -> float:
        """Probability in [0, 1] that a text breaks the rules.

        Raises ConnectionError during an outage (retrying helps).
        """
        if rec.call("classifier.score", text) == 1 and text == "lovely photo!":
            raise ConnectionError("classifier unavailable")
        return scores[text]

    def moderation_remove(item_id: str, reason: str, idempotency_key: str = "") -> dict:
        """Remove an item. Returns {"ok": True}."""
        rec.call("moderation.remove", item_id)
        rec.once("actions", idempotency_key, ("remove", item_id, reason))
        return {"ok": True}

    def moderation_approve(item_id: str, idempotency_key: str = "") -> dict:
        """Approve an item (it stays visible). Returns {"ok": True}."""
        rec.call("moderation.approve", item_id)
        rec.once("actions", idempotency_key, ("approve", item_id, None))
        return {"ok": True}

    def moderation_hide(item_id: str, idempotency_key: str = "") -> dict:
        """Hide an item until someone looks at it. Returns {"ok": True}."""
        rec.call("moderation.hide", item_id)
        rec.once("actions", idempotency_key, ("hide", item_id, None))
        return {"ok": True}

    def moderation_request_review(item_id: str, idempotency_key: str = "") -> dict:
        """Put an item in the human review queue. Returns {"review_id": str}."""
        rec.call("moderation.request_review", item_id)
        rec.once("reviews", idempotency_key, item_id)
        return {"review_id": f"rv-{item_id}"}

    return {"moderation.queue": moderation_queue, "classifier.score": classifier_score,
            "moderation.remove": moderation_remove, "moderation.approve": moderation_approve,
            "moderation.hide": moderation_hide,
            "moderation.request_review": moderation_request_review}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"removed": ["m1", "m2", "m7"], "approved": ["m3", "m5", "m6"],
                      "hidden": ["m4"]}, output
    assert sorted(state["reviews"]) == ["m2", "m4", "m5"], state["reviews"]
    assert sorted(state["actions"], key=lambda a: a[1]) == [
        ("remove", "m1", "auto"), ("remove", "m2", "reviewer"), ("approve", "m3", None),
        ("hide", "m4", None), ("approve", "m5", None), ("approve", "m6", None),
        ("remove", "m7", "auto")], state["actions"]
