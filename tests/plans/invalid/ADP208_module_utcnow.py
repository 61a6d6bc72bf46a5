# expect: ADP208 line 8
"""Compute a deadline."""

import datetime


async def run(event, step):
    deadline = datetime.datetime.utcnow() + datetime.timedelta(days=3)
    return {"deadline": deadline.isoformat()}
