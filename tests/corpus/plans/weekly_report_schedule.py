"""Email a weekly signups report every Monday 08:00 UTC for the next 3 weeks.

The first report goes out on the first Monday 08:00 UTC after the run starts, then one
each following Monday. Each report, sent at its Monday 08:00 UTC and not before, lists
the signups of the 7 days of the week that just ended (Monday to Sunday), one line per
day like "Mon 29 Dec: 41", and a "Total: <sum>" line.

Params: {"to": str}
Events: none
Tools: metrics.signups, email.send
"""

from datetime import datetime, timedelta, timezone

WEEKS = 3
SEND_HOUR = 8
DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
               "Nov", "Dec"]


def first_monday_after(start):
    start = start.astimezone(timezone.utc)
    days_ahead = (0 - start.weekday()) % 7
    day = start.date() + timedelta(days=days_ahead)
    moment = datetime(day.year, day.month, day.day, SEND_HOUR, tzinfo=timezone.utc)
    if moment <= start:
        moment = moment + timedelta(days=7)
    return moment


def day_label(day):
    return f"{DAY_NAMES[day.weekday()]} {day.day:02d} {MONTH_NAMES[day.month - 1]}"


async def run(event, step):
    to = event.payload["to"]
    first_send = first_monday_after(event.timestamp)

    reports = []
    total_signups = 0

    for week in range(WEEKS):
        send_at = first_send + timedelta(weeks=week)
        monday = send_at.date()
        week_start = monday - timedelta(days=7)
        await step.sleep_until(f"until {monday.isoformat()} 08:00 UTC", send_at)

        days = [week_start + timedelta(days=offset) for offset in range(7)]
        counts = await step.gather(*[
            step.do(f"signups {day.isoformat()}",
                    lambda iso=day.isoformat(): tools.metrics.signups(iso))
            for day in days
        ])
        counts = [int(n) for n in counts]
        week_total = sum(counts)

        lines = [f"{day_label(day)}: {n}" for day, n in zip(days, counts)]
        lines.append(f"Total: {week_total}")
        subject = f"Signups for the week of {week_start.isoformat()}"
        body = "\n".join(lines)

        await step.do(f"email report {monday.isoformat()}",
                      lambda subject=subject, body=body: tools.email.send(to, subject, body))

        reports.append(monday.isoformat())
        total_signups += week_total

    return {"reports": reports, "total_signups": total_signups}
