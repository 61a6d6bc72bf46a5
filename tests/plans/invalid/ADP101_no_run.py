# expect: ADP101 line 1
"""Send a welcome email (but the entry point has the wrong name)."""


async def main(event, step):
    await step.do("send welcome", lambda: tools.email.send(event.payload["to"], "Welcome!"))
    return {"sent": True}
