"""Remind the team about standup at 09:30 UTC on each of the next `days` working days.

The first reminder is at the first 09:30 UTC on a weekday strictly after the run
started (possibly the same day); weekends are skipped. Each one is posted at (never
before) its time, as "Standup in 30 minutes (Thu 01 Jan)".

Params: {"channel": str, "days": int}
Events: none
Tools: chat.post
"""

from datetime import UTC, datetime, time, timedelta

REMINDER_TIME = time(9, 30)
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def label(day):
    return f"{WEEKDAYS[day.weekday()]} {day.day:02d} {MONTHS[day.month - 1]}"


def reminder_times(started, count):
    """The next `count` weekday 09:30 UTC instants strictly after `started`."""
    started = started.astimezone(UTC)
    moment = datetime.combine(started.date(), REMINDER_TIME, tzinfo=UTC)
    if moment <= started:
        moment += timedelta(days=1)
    times = []
    while len(times) < count:
        if moment.weekday() < 5:
            times.append(moment)
        moment += timedelta(days=1)
    return times


async def run(event, step):
    channel = event.payload["channel"]
    days = int(event.payload.get("days", 0))

    posted = []
    for when in reminder_times(event.timestamp, days):
        day = when.date()
        await step.sleep_until(f"until standup {day.isoformat()}", when)
        text = f"Standup in 30 minutes ({label(day)})"
        await step.do(f"remind {day.isoformat()}",
                      lambda text=text: tools.chat.post(channel, text))
        posted.append(day.isoformat())

    return {"channel": channel, "posted": posted}
