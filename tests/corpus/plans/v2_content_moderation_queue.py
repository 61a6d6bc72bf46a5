"""Work through the content moderation queue, giving every item exactly one final action.

Each queued item is scored by the classifier (retried up to 4 times, 5 seconds apart,
through transient outages). Score >= 0.9 is removed (reason "auto"), score <= 0.2 is
approved, anything in between is sent to human review. A reviewed item gets 12 hours
from its own review request for a "review-decision" event; the decision is applied
(remove with reason "reviewer", or approve), and silence hides the item. Items are
handled in parallel. If the classifier stays down for an item, a human reviews it.

Params: {} (nothing)
Events: "review-decision" with payload {"item_id": str, "decision": "remove" | "approve"}
Tools: moderation.queue, classifier.score, moderation.remove, moderation.approve,
       moderation.request_review, moderation.hide
"""

REMOVE_AT = 0.9
APPROVE_AT = 0.2
REVIEW_WAIT = "12 hours"
CLASSIFIER_RETRIES = {"limit": 4, "delay": "5 seconds", "backoff": "constant"}


async def run(event, step):
    queue = await step.do("load queue", lambda: tools.moderation.queue())

    async def remove(item_id, reason):
        await step.do(f"remove {item_id}", lambda ctx: tools.moderation.remove(
            item_id, reason, ctx.idempotency_key))
        return "removed"

    async def approve(item_id):
        await step.do(f"approve {item_id}", lambda ctx: tools.moderation.approve(
            item_id, ctx.idempotency_key))
        return "approved"

    async def review(item_id):
        await step.do(f"request review {item_id}", lambda ctx: tools.moderation.request_review(
            item_id, ctx.idempotency_key))
        try:
            # Only decisions about this very item count; others are for other waits
            # or for items that never went to review, and are ignored.
            decision = await step.wait_for_event(f"review decision {item_id}",
                                                 type="review-decision",
                                                 timeout=REVIEW_WAIT,
                                                 match={"item_id": item_id})
        except EventTimeout:
            decision = None
        verdict = decision["payload"].get("decision") if decision else None
        if verdict == "remove":
            return await remove(item_id, "reviewer")
        if verdict == "approve":
            return await approve(item_id)
        await step.do(f"hide {item_id}", lambda ctx: tools.moderation.hide(
            item_id, ctx.idempotency_key))
        return "hidden"

    async def moderate(item):
        item_id = item["item_id"]
        text = item["text"]
        try:
            score = await step.do(f"score {item_id}", lambda: tools.classifier.score(text),
                                  retries=CLASSIFIER_RETRIES)
        except StepFailed as err:
            print(f"classifier gave up on {item_id}: {err.message}; asking a human")
            return await review(item_id)
        if score >= REMOVE_AT:
            return await remove(item_id, "auto")
        if score <= APPROVE_AT:
            return await approve(item_id)
        return await review(item_id)

    actions = await step.gather(*[moderate(item) for item in queue])

    result = {"removed": [], "approved": [], "hidden": []}
    for item, action in zip(queue, actions):
        result[action].append(item["item_id"])
    return result
