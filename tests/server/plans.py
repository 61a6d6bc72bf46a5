"""Plans the server tests run (as an agent would write them)."""

APPROVAL = '''"""Greets, prints, then waits for an approval event."""


async def run(event, step):
    who = event.payload.get("who", "nobody")
    greeting = await step.do("greet", lambda: "hello " + who)
    print("greeted", who)
    approval = await step.wait_for_event("approval", type="approve", timeout="1 hour")
    return {"greeting": greeting, "approval": approval["payload"]}
'''

QUICK = '''"""Doubles a number."""


async def run(event, step):
    return await step.do("double", lambda: event.payload["n"] * 2)
'''

INVALID = '''async def run(event, step):
    import os
    return os.getcwd()
'''
