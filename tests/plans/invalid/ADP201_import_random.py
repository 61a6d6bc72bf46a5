# expect: ADP201 line 4
"""Pick a winner from the entrants."""

import random


async def run(event, step):
    entrants = event.payload["entrants"]
    winner = random.choice(entrants)
    return {"winner": winner}
