# expect: ADP311 line 9
"""Cache a pure helper."""


def cache(function):
    return function


@cache
def cents(amount):
    return round(amount * 100)


async def run(event, step):
    return {"cents": cents(event.payload["amount"])}
