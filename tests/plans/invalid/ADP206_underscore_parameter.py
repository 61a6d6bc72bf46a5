# expect: ADP206 line 5
"""Format an amount."""


def cents(amount, _getattr_=None):
    return round(amount * 100)


async def run(event, step):
    return {"cents": cents(event.payload["amount"])}
