"""Find anomalous hours in a day of a service's error logs and open one ticket per hour.

Reads the 24 hourly error counts once, computes their mean and population standard
deviation, and flags every hour whose count is strictly above mean + 2 * pstdev. Each
anomalous hour gets its own ops ticket titled
"<service>: <count> errors at <HH>:00 on <date>".

Params: {"service": str, "date": str (ISO date; defaults to the day before the run)}
Events: none
Tools: logs.hourly_errors, tickets.open
"""

from datetime import timedelta
from statistics import fmean, pstdev


async def run(event, step):
    service = event.payload["service"]
    date = event.payload.get("date") or (event.timestamp.date() - timedelta(days=1)).isoformat()

    counts = await step.do(f"hourly errors {service} {date}",
                           lambda: tools.logs.hourly_errors(service, date))
    counts = [int(c) for c in counts]

    mean = fmean(counts) if counts else 0.0
    sd = pstdev(counts) if counts else 0.0
    threshold = mean + 2 * sd

    anomalies = [hour for hour, count in enumerate(counts) if count > threshold]

    for hour in anomalies:
        title = f"{service}: {counts[hour]} errors at {hour:02d}:00 on {date}"
        await step.do(f"ticket for {hour:02d}:00",
                      lambda title=title: tools.tickets.open(service, title))

    return {"service": service, "mean": round(mean, 2), "stdev": round(sd, 2),
            "anomalies": anomalies}
