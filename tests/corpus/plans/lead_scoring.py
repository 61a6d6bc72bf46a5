"""Score a sales lead from its CRM record and store the score and tier.

+30 for a company of 200 or more, +20 for a target industry, +2 per website visit (at
most +20), -15 for a free-mail address. 60 or more is "hot", 30 or more "warm", else
"cold".

Params: {"lead_id": str}
Events: none
Tools: crm.lead, crm.update_score
"""

TARGET_INDUSTRIES = ("fintech", "healthcare", "logistics")
FREE_MAIL_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com")
MAX_VISIT_POINTS = 20


def score_lead(lead):
    score = 0
    if (lead.get("company_size") or 0) >= 200:
        score += 30
    if str(lead.get("industry") or "").strip().lower() in TARGET_INDUSTRIES:
        score += 20
    score += min(2 * (lead.get("visits") or 0), MAX_VISIT_POINTS)
    email = str(lead.get("email") or "")
    domain = email.rsplit("@", 1)[1].strip().lower() if "@" in email else ""
    if domain in FREE_MAIL_DOMAINS:
        score -= 15
    return score


def tier_for(score):
    if score >= 60:
        return "hot"
    if score >= 30:
        return "warm"
    return "cold"


async def run(event, step):
    lead_id = event.payload["lead_id"]

    lead = await step.do("fetch lead", lambda: tools.crm.lead(lead_id))
    score = score_lead(lead)
    tier = tier_for(score)

    # Storing a fixed score and tier is idempotent, so a retry does no harm.
    await step.do("store score", lambda: tools.crm.update_score(lead_id, score, tier))

    return {"lead_id": lead_id, "score": score, "tier": tier}
