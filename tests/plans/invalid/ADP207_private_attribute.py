# expect: ADP207 line 6
"""Read the engine's private state."""


async def run(event, step):
    state = step._journal
    return {"state": str(state)}
