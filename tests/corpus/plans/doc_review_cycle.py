"""Take a document through review rounds until it is approved and published.

Each round submits the current version to the reviewer and waits up to 2 days for a
"review" of this doc_id and exactly that version; silence gets one reminder and 1 more
day, then the run stops as "stalled". "approved" publishes the version ("published");
"changes" has the author revise it and starts the next round. After 3 rounds that all
asked for changes the run stops as "rejected" without revising again.

Params: {"doc_id": str, "reviewer": str}
Events: "review" with payload {"doc_id": str, "version": int,
        "verdict": "approved" | "changes", "comments": str}
Tools: docs.submit, docs.publish, docs.revise, chat.dm
"""

MAX_ROUNDS = 3
REVIEW_WAIT = "2 days"
WAIT_AFTER_REMINDER = "1 day"


async def run(event, step):
    doc_id = event.payload["doc_id"]
    reviewer = event.payload["reviewer"]

    version = 1
    reminders = 0
    rounds = 0
    status = "rejected"
    published_version = None

    for round_no in range(1, MAX_ROUNDS + 1):
        rounds = round_no
        await step.do(
            f"submit {doc_id} v{version} (round {round_no})",
            lambda version=version: tools.docs.submit(doc_id, version, reviewer),
        )

        this_review = {"doc_id": doc_id, "version": version}
        review = None
        try:
            review = await step.wait_for_event(
                f"review of v{version} (round {round_no})", type="review",
                timeout=REVIEW_WAIT, match=this_review)
        except EventTimeout:
            reminders += 1
            text = (f"Reminder: {doc_id} version {version} is still waiting for your "
                    f"review.")
            await step.do(f"remind {reviewer} (round {round_no})",
                          lambda text=text: tools.chat.dm(reviewer, text))
            try:
                review = await step.wait_for_event(
                    f"review of v{version} after reminder (round {round_no})",
                    type="review", timeout=WAIT_AFTER_REMINDER, match=this_review)
            except EventTimeout:
                print(f"no review of {doc_id} v{version}; stalled")

        if review is None:
            status = "stalled"
            break

        verdict = review["payload"].get("verdict")
        if verdict == "approved":
            await step.do(f"publish {doc_id} v{version}",
                          lambda version=version: tools.docs.publish(doc_id, version))
            status = "published"
            published_version = version
            break

        # "changes": revise unless this was the last allowed round.
        if round_no == MAX_ROUNDS:
            status = "rejected"
            break
        comments = review["payload"].get("comments", "")
        revised = await step.do(
            f"revise {doc_id} after v{version}",
            lambda comments=comments: tools.docs.revise(doc_id, comments))
        version = revised["version"]

    return {"doc_id": doc_id, "status": status, "rounds": rounds,
            "published_version": published_version, "reminders": reminders}
