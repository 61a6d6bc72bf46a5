"""Post an announcement at the first Monday 09:00 UTC strictly after the run starts.

The posting time is computed from the run's start (event.timestamp), so replays agree on
it: a run that starts on a Monday before 09:00 UTC posts that same Monday, otherwise the
following Monday. The plan sleeps durably until then and posts exactly once.

Params: {"channel": str, "text": str}
Events: none
Tools: chat.post
"""

from datetime import datetime, timedelta, timezone

POST_HOUR = 9
MONDAY = 0


def next_monday_nine(start):
    start_utc = start.astimezone(timezone.utc)
    days_ahead = (MONDAY - start_utc.weekday()) % 7
    day = start_utc.date() + timedelta(days=days_ahead)
    candidate = datetime(day.year, day.month, day.day, POST_HOUR, 0, 0, tzinfo=timezone.utc)
    if candidate <= start_utc:
        candidate = candidate + timedelta(days=7)
    return candidate


async def run(event, step):
    channel = event.payload["channel"]
    text = event.payload["text"]

    when = next_monday_nine(event.timestamp)
    scheduled_for = when.isoformat()

    await step.sleep_until("wait for Monday 09:00 UTC", when)

    await step.do(f"post to {channel}", lambda: tools.chat.post(channel, text))

    return {"channel": channel, "scheduled_for": scheduled_for}
