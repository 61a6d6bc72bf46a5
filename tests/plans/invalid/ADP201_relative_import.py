# expect: ADP201 line 4
"""Reuse a helper from a sibling module."""

from .helpers import summarize


async def run(event, step):
    rows = await step.do("load rows", lambda: tools.warehouse.extract("orders", 0))
    return {"summary": summarize(rows)}
