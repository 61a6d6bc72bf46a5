# expect: ADP208 line 9
"""Stamp the report with the current time."""

from datetime import datetime


async def run(event, step):
    report = await step.do("build report", lambda: tools.reports.build(event.payload["day"]))
    return {"report": report, "at": datetime.now().isoformat()}
