# expect: ADP201 line 4
"""Fetch the exchange rate from a public API."""

import requests


async def run(event, step):
    rate = await step.do("fetch rate", lambda: requests.get("https://example.com/eur").json())
    return {"rate": rate}
