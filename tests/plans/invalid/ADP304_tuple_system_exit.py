# expect: ADP304 line 8
"""Load the order, ignoring failures and exits."""


async def run(event, step):
    try:
        order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    except (StepFailed, SystemExit):
        order = None
    return {"found": order is not None}
