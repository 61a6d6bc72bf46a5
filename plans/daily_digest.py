"""Send a morning news digest on a topic at 08:00 UTC for the next few days.

Sleeps to an absolute time, so a digest whose 08:00 passed while the engine was down
goes out as soon as it is back, and the next ones stay on schedule.

Params: {"topic": str, "to": str, "days": int (default 3, at most 14)}
Tools: feed.latest, notify.send
"""

from datetime import UTC, timedelta

SEND_HOUR_UTC = 8
MAX_DAYS = 14


def first_send_time(created):
    """The first 08:00 UTC strictly after `created`."""
    start = created.astimezone(UTC)
    send = start.replace(hour=SEND_HOUR_UTC, minute=0, second=0, microsecond=0)
    if send <= start:
        send = send + timedelta(days=1)
    return send


async def run(event, step):
    topic = event.payload["topic"]
    days = min(event.payload.get("days", 3), MAX_DAYS)
    # Computed from the creation time, never from a clock read, so replays agree.
    first = first_send_time(event.timestamp)

    sent = 0
    headline_count = 0
    for day in range(1, days + 1):
        send_at = first + timedelta(days=day - 1)
        date = send_at.date().isoformat()
        await step.sleep_until(f"wait for digest {day}", send_at.isoformat())

        headlines = await step.do(f"collect news {day}", lambda: tools.feed.latest(topic, date))
        if not headlines:
            print(f"nothing new about {topic} on {date}; skipping")
            continue

        lines = [f"- {h['title']} ({h['url']})" for h in headlines]
        body = f"Your {topic} digest for {date}:\n" + "\n".join(lines)
        await step.do(f"send digest {day}", lambda ctx: tools.notify.send(
            event.payload["to"], body, ctx.idempotency_key))
        sent += 1
        headline_count += len(headlines)

    return {"topic": topic, "digests_sent": sent, "headlines": headline_count}
