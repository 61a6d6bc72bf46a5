# expect: ADP202 line 4
"""Compute a geometric mean of the scores."""

from math import prod, nextafter


async def run(event, step):
    scores = event.payload["scores"]
    mean = prod(scores) ** (1 / len(scores))
    return {"mean": nextafter(mean, 0)}
