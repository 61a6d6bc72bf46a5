# expect: ADP313 line 8
"""Check the size of a quantity."""


async def run(event, step):
    quantity = event.payload["quantity"]
    match quantity:
        case int(real=amount) if amount > 100:
            return {"bulk": True}
        case _:
            return {"bulk": False}
