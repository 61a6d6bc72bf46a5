# expect: ADP304 line 8
"""Survive an interrupt."""


async def run(event, step):
    try:
        await step.sleep("wait", "1 hour")
    except KeyboardInterrupt:
        print("interrupted")
    return {"waited": True}
