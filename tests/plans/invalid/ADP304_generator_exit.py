# expect: ADP304 line 8
"""Keep waiting even when the engine closes the plan."""


async def run(event, step):
    try:
        await step.sleep("wait", "1 day")
    except GeneratorExit:
        print("closing")
    return {"waited": True}
