"""Collect responses to a team survey for up to 3 days, then publish the results once.

Counts "survey-response" events for this survey only, and only each respondent's first
response. Collection stops when `target` distinct respondents have answered or 3 days
after the run started (one total deadline), whichever comes first. The results (count,
mean score, distribution and comments) are published once to the wiki.

Params: {"survey_id": str, "target": int}
Events: "survey-response" with payload {"survey_id": str, "respondent": str,
        "score": int (1-5), "comment": str}
Tools: report.publish
"""

from datetime import timedelta

COLLECT_FOR = timedelta(days=3)
SCORES = ["1", "2", "3", "4", "5"]


async def run(event, step):
    survey_id = event.payload["survey_id"]
    target = int(event.payload["target"])
    deadline = event.timestamp + COLLECT_FOR

    respondents = []
    scores = []
    comments = []

    while len(respondents) < target:
        now = await step.now()
        remaining = deadline - now
        if remaining.total_seconds() <= 0:
            break
        try:
            response = await step.wait_for_event("response", type="survey-response",
                                                 timeout=remaining,
                                                 match={"survey_id": survey_id})
        except EventTimeout:
            print(f"deadline reached with {len(respondents)} of {target} responses")
            break

        payload = response["payload"]
        respondent = payload.get("respondent")
        if respondent in respondents:
            print(f"ignoring repeated response from {respondent}")
            continue
        try:
            score = int(payload.get("score"))
        except (TypeError, ValueError):
            score = None
        if score is None or str(score) not in SCORES:
            print(f"ignoring response from {respondent} with invalid score")
            continue

        respondents.append(respondent)
        scores.append(score)
        comment = payload.get("comment")
        if isinstance(comment, str) and comment.strip():
            comments.append(comment)

    distribution = {key: 0 for key in SCORES}
    for score in scores:
        distribution[str(score)] += 1
    mean = round(sum(scores) / len(scores), 2) if scores else None

    title = f"Survey {survey_id} results"
    lines = [
        f"Responses: {len(scores)} (target {target})",
        f"Mean score: {mean if mean is not None else 'n/a'}",
    ]
    lines += [f"Score {key}: {distribution[key]}" for key in SCORES]
    if comments:
        lines.append("Comments:")
        lines += [f"- {comment}" for comment in comments]

    await step.do("publish results", lambda: tools.report.publish(title, lines))

    return {"survey_id": survey_id, "responses": len(scores), "mean": mean,
            "distribution": distribution, "comments": comments}
