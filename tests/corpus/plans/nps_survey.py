"""Run a one-question NPS survey for a customer.

Email the survey, wait up to 3 days for this user's "survey-response", categorize the
score (promoter 9-10, passive 7-8, detractor 0-6) and open a follow-up ticket quoting the
comment for a detractor. No response within 3 days: score and category stay null.

Params: {"user_id": str, "email": str}
Events: "survey-response" with payload {"user_id": str, "score": int, "comment": str}
Tools: email.send, tickets.open
"""

RESPONSE_WAIT = "3 days"


def category_for(score):
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


async def run(event, step):
    user_id = event.payload["user_id"]
    to = event.payload["email"]

    await step.do("send survey", lambda: tools.email.send(
        to,
        "How likely are you to recommend us?",
        "On a scale from 0 to 10, how likely are you to recommend us to a friend or "
        "colleague? Just reply with your score and an optional comment."))

    try:
        response = await step.wait_for_event("survey response", type="survey-response",
                                             timeout=RESPONSE_WAIT,
                                             match={"user_id": user_id})
    except EventTimeout:
        print(f"no survey response from {user_id} within {RESPONSE_WAIT}")
        return {"user_id": user_id, "score": None, "category": None, "ticket_id": None}

    payload = response["payload"]
    score = int(payload["score"])
    comment = payload.get("comment") or ""
    category = category_for(score)

    ticket_id = None
    if category == "detractor":
        ticket = await step.do("open follow-up ticket", lambda: tools.tickets.open(
            user_id, f"NPS detractor (score {score}): {comment}"))
        ticket_id = ticket["ticket_id"]

    return {"user_id": user_id, "score": score, "category": category,
            "ticket_id": ticket_id}
