"""Pick a uniform random QA sample of the tickets closed on a day and flag each once.

Lists the day's closed tickets, chooses sample_size distinct ids uniformly at random
(a partial Fisher-Yates shuffle driven by step.random(), which is recorded, so a resumed
run keeps the same sample), and flags each chosen ticket for QA review exactly once.

Params: {"day": str (ISO date), "sample_size": int}
Events: none
Tools: tickets.closed, audit.flag
"""

from math import floor


async def run(event, step):
    day = event.payload["day"]
    sample_size = int(event.payload.get("sample_size", 0))

    closed = await step.do(f"list tickets closed on {day}",
                           lambda: tools.tickets.closed(day))
    pool = list(dict.fromkeys(closed))  # distinct ids, listed order kept

    count = max(0, min(sample_size, len(pool)))
    for i in range(count):
        r = await step.random()
        j = i + min(floor(r * (len(pool) - i)), len(pool) - i - 1)
        pool[i], pool[j] = pool[j], pool[i]
    sampled = pool[:count]

    for ticket_id in sampled:
        await step.do(f"flag {ticket_id}",
                      lambda ticket_id=ticket_id: tools.audit.flag(ticket_id))

    return {"day": day, "sampled": sampled}
