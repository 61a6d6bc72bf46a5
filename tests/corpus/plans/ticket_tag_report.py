"""Publish a report of the 3 most common support ticket tags since a date.

Lists the tickets opened since the given ISO date and counts, per tag, how many tickets
carry it; tickets without tags count under "untagged". The top 3 (most common first,
ties alphabetical) are published as "Top tags since <since>" with lines "<tag>: <count>".

Params: {"since": str (ISO date)}
Events: none
Tools: tickets.list, report.publish
"""

from collections import Counter

UNTAGGED = "untagged"
TOP_N = 3


async def run(event, step):
    since = event.payload["since"]

    tickets = await step.do(f"list tickets since {since}",
                            lambda: tools.tickets.list(since))

    counts = Counter()
    untagged = 0
    for ticket in tickets:
        tags = set(ticket.get("tags") or [])
        if not tags:
            untagged += 1
            counts[UNTAGGED] += 1
            continue
        for tag in tags:
            counts[tag] += 1

    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    top = [[tag, count] for tag, count in ranked[:TOP_N]]

    title = f"Top tags since {since}"
    lines = [f"{tag}: {count}" for tag, count in top]
    published = await step.do("publish report", lambda: tools.report.publish(title, lines))
    print(f"report published: {published.get('url')}")

    return {"total_tickets": len(tickets), "top_tags": top, "untagged": untagged}
