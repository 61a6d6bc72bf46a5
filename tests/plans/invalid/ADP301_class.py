# expect: ADP301 line 5
"""Keep order state in an object."""


class OrderState:
    pass


async def run(event, step):
    return {"order": event.payload["id"]}
